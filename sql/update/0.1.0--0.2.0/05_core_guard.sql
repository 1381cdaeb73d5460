-- scfrisk update script 0.1.0 -> 0.2.0, part 05: the schema guard of
-- sql/install/00_core.sql, so that a 0.1.0 installed (before the guard) into
-- a schema another role prepared is not updated either.

-- The schema guard (issue 13, PostgreSQL's "Security Considerations for
-- Extension Scripts", CVE-2022-2625).  The schema scfrisk of the control file
-- is used when it already exists.  Whoever owns it, or may create objects in
-- it, can rename it or put objects beside the extension's and so redirect a
-- name that a SECURITY DEFINER function of the extension resolves: code of a
-- database owner with CREATEDB would run as the superuser who installed.  So
-- the schema must belong to the role that installs or updates the extension
-- (or to a superuser, who could do all this anyway: another superuser may
-- run the update), and no other role may create objects in it.  Every name below is qualified
-- with pg_catalog: the search_path of an extension script starts with the
-- very schema being checked.
DO $guard$
DECLARE
	owner_name pg_catalog.name;
	owner_super boolean;
	creator pg_catalog.name;
BEGIN
	SELECT r.rolname, r.rolsuper INTO owner_name, owner_super
	FROM pg_catalog.pg_namespace AS n JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
	WHERE n.nspname OPERATOR(pg_catalog.=) 'scfrisk'::pg_catalog.name;
	IF owner_name OPERATOR(pg_catalog.<>) CURRENT_USER AND NOT owner_super THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('schema "scfrisk" is owned by role "%s", not by role "%s" that installs scfrisk nor by a superuser',
										owner_name, CURRENT_USER),
			DETAIL = 'The owner of an extension''s schema can replace the objects that the extension''s SECURITY DEFINER functions use and run code with the installing role''s privileges (PostgreSQL: "Security Considerations for Extension Scripts"; CVE-2022-2625).',
			HINT = 'Check what the schema holds, then drop it (DROP SCHEMA scfrisk CASCADE) or give it to the installing role (ALTER SCHEMA scfrisk OWNER TO ...), and run the command again.';
	END IF;
	SELECT r.rolname INTO creator
	FROM pg_catalog.pg_namespace AS n, pg_catalog.aclexplode(n.nspacl) AS a
		 LEFT JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) a.grantee
	WHERE n.nspname OPERATOR(pg_catalog.=) 'scfrisk'::pg_catalog.name
	  AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
	  AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('role "%s" may create objects in schema "scfrisk"',
										COALESCE(creator, 'PUBLIC')),
			DETAIL = 'A role that can create objects in an extension''s schema can shadow the extension''s functions and operators (PostgreSQL: "Security Considerations for Extension Scripts"; CVE-2022-2625).',
			HINT = 'REVOKE CREATE ON SCHEMA scfrisk FROM that role, and run the command again.';
	END IF;
END
$guard$;

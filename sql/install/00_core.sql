-- scfrisk install script, part 00: the core.
-- The install script sql/scfrisk--<version>.sql is the concatenation of
-- sql/install/*.sql in name order; each concern owns one fragment.

\echo Use "CREATE EXTENSION scfrisk" to load this file. \quit

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

CREATE FUNCTION scfrisk.model_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'model_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_info(bytea) IS
'header and metadata of an scfrisk model: kind, format version, width, sizes, checksum, params, feature names, rows, seed, diagnostics';

CREATE FUNCTION scfrisk.model_kind(model bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'model_kind'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_kind(bytea) IS
'kind of an scfrisk model (gbt, mlp, xgb_mlp, logreg, qrgmm_linear, qrgmm_deepfm), read from its header alone';

CREATE FUNCTION scfrisk.build_info()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'scfrisk_build_info'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.build_info() IS
'how this scfrisk was built: version, BLAS backend, and the scfrisk.threads setting in force';

CREATE FUNCTION scfrisk.model_kinds(
	OUT kind text, OUT tag int, OUT format_version int, OUT training_aggregate text,
	OUT scores_rows bool, OUT gives_curves bool, OUT accepts_missing bool, OUT docs text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'model_kinds'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.model_kinds() IS
'the model kinds this build knows: name, header tag, newest format version, the training aggregate (features float8[], label float8, params jsonb) the registry retrains with, whether scfrisk.predict scores its rows, whether it gives quantile curves, whether its scorer takes missing values, its docs page';

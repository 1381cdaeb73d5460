"""Security layer: CREATE EXTENSION scfrisk refuses a schema another role prepared
(issue 13 item 1, PostgreSQL's "Security Considerations for Extension Scripts" and
CVE-2022-2625).

The attack: a role with CREATEDB makes a database, creates schema scfrisk in it and
waits for a superuser to run CREATE EXTENSION scfrisk there.  Before the fix the
extension went into that schema; the role then renamed it, made a new schema
scfrisk with a function scfrisk.registry_invoker() of its own and called the real
scfrisk_real.retrain_promote, a SECURITY DEFINER function, which ran the role's
function as the superuser.  This test replays every step and asserts:

- CREATE EXTENSION in the prepared database fails (42501) naming the schema, its
  owner and what to do, and leaves no extension behind;
- the replayed attack (if the extension had gone in) never runs code as a superuser;
- the update path refuses too: 0.1.0 installed into the prepared schema by the
  released script is not updated to 0.2.0 (ALTER EXTENSION UPDATE fails);
- a schema the installing role (or another superuser) made is accepted, one in which
  another role may create objects is refused; after a proper install
  the database owner can neither rename the schema nor run the internal steps.

It makes its own database and roles (unique names) and drops them at the end.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

T = Tap()
SUFFIX = str(os.getpid())
ATTACKER = "sfsec_attacker_" + SUFFIX
DB = "sfsec_install_" + SUFFIX
DB_OK = "sfsec_install_ok_" + SUFFIX
OTHER_SU = "sfsec_other_su_" + SUFFIX


def connect(dbname=None, user=None):
    kw = {}
    if dbname:
        kw["dbname"] = dbname
    if user:
        kw["user"] = user
    c = psycopg2.connect(**kw)
    c.autocommit = True
    return c


def run(conn, sql, args=None):
    """Execute; return (sqlstate or None, message or None, rows or None)."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql, args)
            rows = cur.fetchall() if cur.description else None
            return None, None, rows
        except psycopg2.Error as e:
            return e.pgcode, str(e), None


def main():
    su = connect()
    superuser_name = run(su, "SELECT current_user")[2][0][0]
    run(su, "CREATE ROLE %s LOGIN CREATEDB" % ATTACKER)
    try:
        attack(su, superuser_name)
        update_path(su)
        proper_install(su)
    finally:
        for db in (DB, DB_OK):
            run(su, "DROP DATABASE IF EXISTS %s" % db)
        run(su, "DROP ROLE IF EXISTS %s" % ATTACKER)
        run(su, "DROP ROLE IF EXISTS %s" % OTHER_SU)
    T.done()


def prepare_database():
    """The attacker makes a database with a schema scfrisk of its own."""
    att = connect(user=ATTACKER)
    code, msg, _ = run(att, "CREATE DATABASE %s" % DB)
    att.close()
    T.ok(code is None, "a CREATEDB role makes a database", msg)
    att = connect(DB, ATTACKER)
    code, msg, _ = run(att, "CREATE SCHEMA scfrisk")
    T.ok(code is None, "and a schema scfrisk in it", msg)
    # where the payload reports that it ran as a superuser: a sequence, whose
    # nextval survives the rollback of the failing call around it
    run(att, "CREATE SEQUENCE public.pwned")
    run(att, "GRANT USAGE ON SEQUENCE public.pwned TO PUBLIC")
    return att


def attack(su, superuser_name):
    att = prepare_database()
    sudb = connect(DB)
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk")
    T.ok(code == "42501", "CREATE EXTENSION refuses the schema the CREATEDB role made (42501)",
         "got %s: %s" % (code, msg))
    T.ok(msg is not None and ATTACKER in msg and "CVE-2022-2625" in (msg or ""),
         "the error names the schema's owner and the reference (CVE-2022-2625)", msg)
    T.ok(msg is not None and "DROP SCHEMA" in msg, "and says what to do", msg)
    rows = run(sudb, "SELECT count(*) FROM pg_extension WHERE extname = 'scfrisk'")[2]
    T.ok(rows[0][0] == 0, "no extension is left behind")

    # Replay the rest of the attack; it only gets anywhere if the extension went in.
    if rows[0][0] == 1:
        run(att, "ALTER SCHEMA scfrisk RENAME TO scfrisk_real")
        run(att, "CREATE SCHEMA scfrisk")
        run(att, """CREATE FUNCTION scfrisk.registry_invoker() RETURNS text LANGUAGE plpgsql AS $$
                    BEGIN
                        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                            PERFORM nextval('public.pwned');
                        END IF;
                        RETURN 'x';
                    END $$""")
        run(att, "SELECT scfrisk_real.retrain_promote('x', 1)")
    rows = run(att, "SELECT is_called FROM public.pwned")[2]
    T.ok(rows == [(False,)], "no code of the CREATEDB role ran as a superuser",
         "the payload ran as %s" % superuser_name)
    sudb.close()
    att.close()


def update_path(su):
    """0.1.0's released script has no guard; the update to 0.2.0 refuses the schema."""
    run(su, "DROP DATABASE IF EXISTS %s" % DB)
    att = prepare_database()
    att.close()
    sudb = connect(DB)
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk VERSION '0.1.0'")
    if code is not None:
        T.skip("ALTER EXTENSION UPDATE refuses the schema", "0.1.0 did not install: %s" % msg)
        sudb.close()
        return
    code, msg, _ = run(sudb, "ALTER EXTENSION scfrisk UPDATE")
    T.ok(code == "42501", "ALTER EXTENSION UPDATE refuses a 0.1.0 installed into the role's schema (42501)",
         "got %s: %s" % (code, msg))
    rows = run(sudb, "SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'")[2]
    T.ok(rows == [("0.1.0",)], "the extension stays at 0.1.0", rows)
    sudb.close()


def proper_install(su):
    run(su, "CREATE DATABASE %s OWNER %s" % (DB_OK, ATTACKER))
    sudb = connect(DB_OK)
    code, msg, _ = run(sudb, "CREATE SCHEMA scfrisk")
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk")
    T.ok(code is None, "a schema scfrisk the installing role made itself is accepted", msg)
    # another superuser may own it (it could do anything anyway), e.g. for an update
    run(sudb, "CREATE ROLE %s SUPERUSER" % OTHER_SU)
    run(sudb, "ALTER SCHEMA scfrisk OWNER TO %s" % OTHER_SU)
    code, msg, _ = run(sudb, "DROP EXTENSION scfrisk")
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk")
    T.ok(code is None, "a schema scfrisk owned by another superuser is accepted", msg)
    run(sudb, "ALTER SCHEMA scfrisk OWNER TO CURRENT_USER")
    run(sudb, "DROP ROLE %s" % OTHER_SU)
    # nobody else may create objects in it
    run(sudb, "DROP EXTENSION scfrisk")
    run(sudb, "GRANT CREATE ON SCHEMA scfrisk TO %s" % ATTACKER)
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk")
    T.ok(code == "42501" and ATTACKER in (msg or ""),
         "a schema in which another role may create objects is refused (42501)", "got %s: %s" % (code, msg))
    run(sudb, "REVOKE CREATE ON SCHEMA scfrisk FROM %s" % ATTACKER)
    code, msg, _ = run(sudb, "CREATE EXTENSION scfrisk")
    T.ok(code is None, "and accepted once that is revoked", msg)
    att = connect(DB_OK, ATTACKER)
    code, msg, _ = run(att, "ALTER SCHEMA scfrisk RENAME TO scfrisk_real")
    T.ok(code == "42501", "the database owner cannot rename the extension's schema (42501)",
         "got %s: %s" % (code, msg))
    code, msg, _ = run(att, "SELECT scfrisk.retrain_promote('x', 1)")
    T.ok(code == "42501", "nor run the promotion step (42501)", "got %s: %s" % (code, msg))
    code, msg, _ = run(att, "SELECT scfrisk.retrain_fit('x')")
    T.ok(code == "42501", "nor the training step (42501)", "got %s: %s" % (code, msg))
    att.close()
    sudb.close()


if __name__ == "__main__":
    main()

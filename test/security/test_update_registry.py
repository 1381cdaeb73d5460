"""Security layer: the 0.1.0 -> 0.2.0 update gives the registry a fresh install gives.

The registry's security fixes (issue 13 items 1-4) and flow changes (issue 18
item 2) live in sql/install/60_registry.sql and are repeated in
sql/update/0.1.0--0.2.0/60_registry.sql.  If the two drift apart, a database
updated from 0.1.0 keeps a hole a fresh install has closed (the retrain steps
executable by PUBLIC, say).  In two databases of its own, one made with
CREATE EXTENSION scfrisk and one with VERSION '0.1.0' then ALTER EXTENSION
UPDATE, this test compares, object by object: every registry function and
procedure (definition, SECURITY DEFINER, settings, privileges), the registry
tables' constraints, and that PUBLIC executes none of the internals.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

T = Tap()
SUFFIX = str(os.getpid())
FRESH = "sfsec_fresh_" + SUFFIX
UPDATED = "sfsec_updated_" + SUFFIX

FUNCS = """
SELECT p.oid::regprocedure::text, p.prosecdef, array_to_string(p.proconfig, ';'), p.provolatile, p.proisstrict,
       pg_get_function_result(p.oid), md5(p.prosrc), coalesce(p.proacl::text, '')
FROM pg_proc p
WHERE p.pronamespace = 'scfrisk'::regnamespace
  AND (p.proname LIKE 'registry%' OR p.proname LIKE 'retrain%'
       OR p.proname IN ('save_model', 'deploy', 'rollback', 'retire', 'register_training', 'model')
       OR p.oid = 'scfrisk.predict(text, float8[])'::regprocedure)
ORDER BY 1
"""
CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c WHERE c.connamespace = 'scfrisk'::regnamespace AND c.conrelid::regclass::text LIKE 'scfrisk.registry%'
ORDER BY 1, 2
"""
PUBLIC_EXEC = """
SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
WHERE p.pronamespace = 'scfrisk'::regnamespace AND a.grantee = 0
  AND (p.proname LIKE 'registry%' OR p.proname LIKE 'retrain%')
"""


def connect(db=None):
    c = psycopg2.connect(dbname=db) if db else psycopg2.connect()
    c.autocommit = True
    return c


def fetch(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def main():
    su = connect()
    fresh = upd = None
    try:
        with su.cursor() as cur:
            cur.execute("CREATE DATABASE %s" % FRESH)
            cur.execute("CREATE DATABASE %s" % UPDATED)
        fresh = connect(FRESH)
        fetch_ok = True
        with fresh.cursor() as cur:
            cur.execute("CREATE EXTENSION scfrisk")
        upd = connect(UPDATED)
        with upd.cursor() as cur:
            try:
                cur.execute("CREATE EXTENSION scfrisk VERSION '0.1.0'")
                cur.execute("ALTER EXTENSION scfrisk UPDATE")
            except psycopg2.Error as e:
                fetch_ok = False
                T.ok(False, "0.1.0 installs and updates", str(e))
        if fetch_ok:
            T.ok(True, "0.1.0 installs and updates to the current version")
            a, b = fetch(fresh, FUNCS), fetch(upd, FUNCS)
            T.ok(len(a) > 20, "the registry has its functions (%d)" % len(a))
            diff = sorted(set(a) ^ set(b))
            T.ok(not diff, "every registry function is the same after the update as after a fresh install",
                 "\n".join(str(d) for d in diff[:10]))
            a, b = fetch(fresh, CONSTRAINTS), fetch(upd, CONSTRAINTS)
            T.ok(a == b, "the registry tables have the same constraints", (a, b))
            T.ok(fetch(upd, PUBLIC_EXEC)[0][0] == 0, "after the update PUBLIC executes no registry internal")
    finally:
        for c in (fresh, upd):
            if c is not None:
                c.close()
        with su.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s" % FRESH)
            cur.execute("DROP DATABASE IF EXISTS %s" % UPDATED)
    T.done()


if __name__ == "__main__":
    main()

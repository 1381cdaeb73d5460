"""Security layer: after the 0.1.0 -> 0.2.0 update, the model-bytes objects of
issue 13 (items 5-13) are those of a fresh install.

sql/install/65_bytes.sql adds scfrisk.container_info and describes the
stricter model_info; sql/update/0.1.0--0.2.0/65_bytes.sql repeats them.  In
two databases of its own (CREATE EXTENSION scfrisk, and VERSION '0.1.0' then
ALTER EXTENSION UPDATE) this test compares them and the comments of
binary_metrics(label, score, threshold) and partial_dependence's transition
(params per group) (definition, volatility, strictness, parallel safety,
comment, privileges) and checks that
an updated database refuses the header-only logreg of the issue and keeps
params per group.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

T = Tap()
SUFFIX = str(os.getpid())
FRESH = "sfbytes_fresh_" + SUFFIX
UPDATED = "sfbytes_updated_" + SUFFIX
HEADER_ONLY = "\\x53434652010004000000000004000000000000000000000000000000"
OBJECTS = """
SELECT p.oid::regprocedure::text, p.prosrc, p.probin IS NOT NULL, p.provolatile, p.proisstrict, p.proparallel,
       pg_get_function_result(p.oid), obj_description(p.oid, 'pg_proc'), coalesce(p.proacl::text, '')
FROM pg_proc p
WHERE p.pronamespace = 'scfrisk'::regnamespace
  AND (p.proname IN ('model_info', 'container_info', 'partial_dependence_sfunc')
       OR p.oid = 'scfrisk.binary_metrics(float8, float8, float8)'::regprocedure)
ORDER BY 1
"""

admin = psycopg2.connect("")
admin.autocommit = True
ac = admin.cursor()
ac.execute("CREATE DATABASE %s" % FRESH)
ac.execute("CREATE DATABASE %s" % UPDATED)
try:
    rows = {}
    for db, create in ((FRESH, ["CREATE EXTENSION scfrisk"]),
                       (UPDATED, ["CREATE EXTENSION scfrisk VERSION '0.1.0'", "ALTER EXTENSION scfrisk UPDATE"])):
        c = psycopg2.connect(dbname=db)
        c.autocommit = True
        cur = c.cursor()
        for s in create:
            cur.execute(s)
        cur.execute(OBJECTS)
        rows[db] = cur.fetchall()
        if db == UPDATED:
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'")
            T.ok(cur.fetchone()[0] == "0.2.0", "the update reaches 0.2.0")
            try:
                cur.execute("SELECT scfrisk.model_info(%s::bytea)", (HEADER_ONLY,))
                got = "ok"
            except psycopg2.Error as e:
                got = e.pgcode
            T.ok(got == "XX001", "updated: model_info refuses the header-only logreg (XX001)", got)
            cur.execute("SELECT scfrisk.container_info(%s::bytea) ->> 'kind'", (HEADER_ONLY,))
            T.ok(cur.fetchone()[0] == "logreg", "updated: container_info still shows its container")
            try:
                cur.execute("SELECT scfrisk.logreg_train(ARRAY[k % 7, k % 5]::float8[], (k % 2)::float8,"
                            " CASE WHEN k = 1 THEN '{\"C\": 1}'::jsonb ELSE '{\"C\": 2}' END)"
                            " FROM generate_series(1, 100) AS k")
                got = "ok"
            except psycopg2.Error as e:
                got = e.pgcode
            T.ok(got == "22023", "updated: params that differ between rows are 22023", got)
        c.close()
    T.ok(len(rows[FRESH]) == 4, "a fresh install has the four objects compared", rows[FRESH])
    T.ok(rows[FRESH] == rows[UPDATED], "the updated database has the same four objects, comments and privileges",
         "fresh:   %s\nupdated: %s" % (rows[FRESH], rows[UPDATED]))
finally:
    ac.execute("DROP DATABASE IF EXISTS %s" % FRESH)
    ac.execute("DROP DATABASE IF EXISTS %s" % UPDATED)
    admin.close()
T.done()

"""Multi-session tests of per-row explanations (issue 17).

- upgrade: a database created at 0.1.0 and updated has the same explain
  functions, reason codes, demo functions and trainer comments as a fresh
  install (definitions and comments compared);
- parallel plans: explain_array and reason_codes are PARALLEL SAFE, and a
  parallel scan over many rows gives the same answers as a serial one;
- a model's explanation is the same in every session (the sampled estimator
  is seeded by the model, not by the session).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

t = Tap()
admin = psycopg2.connect("")
admin.autocommit = True
acur = admin.cursor()

OBJECTS = """
    SELECT p.oid::regprocedure::text, md5(CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END),
           coalesce(obj_description(p.oid, 'pg_proc'), '-')
    FROM pg_proc p
    WHERE p.pronamespace = 'scfrisk'::regnamespace
      AND (p.proname IN ('explain', 'explain_array', 'explain_std_error', 'reason_codes',
                         'generate_demo_data', 'demo_train_credit_model')
           OR p.proname LIKE '%\\_train')
    ORDER BY 1"""


def objects(dbname, version):
    acur.execute("DROP DATABASE IF EXISTS %s" % dbname)
    acur.execute("CREATE DATABASE %s" % dbname)
    c = psycopg2.connect(dbname=dbname)
    c.autocommit = True
    cur = c.cursor()
    if version:
        cur.execute("CREATE EXTENSION scfrisk VERSION %s", (version,))
        cur.execute("ALTER EXTENSION scfrisk UPDATE")
    else:
        cur.execute("CREATE EXTENSION scfrisk")
    cur.execute(OBJECTS)
    rows = cur.fetchall()
    c.close()
    acur.execute("DROP DATABASE %s" % dbname)
    return rows


fresh = objects("sf_explain_fresh", None)
upgraded = objects("sf_explain_upgraded", "0.1.0")
t.ok(len(fresh) >= 10 and fresh == upgraded,
     "0.1.0 + ALTER EXTENSION UPDATE = fresh install for explain, reason codes, demo and trainers (%d objects)"
     % len(fresh), "\n".join(str(a) + " / " + str(b) for a, b in zip(fresh, upgraded) if a != b))

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("""
    CREATE TABLE ex_rows AS
    SELECT i, ARRAY[sin(i), cos(i * 0.7), (i % 5)::float8, sin(i * 0.3), cos(i * 0.11), (i % 3)::float8,
                    sin(i * 1.7), cos(i * 2.3), (i % 7)::float8, sin(i * 0.05)]::float8[] AS x,
           (sin(i) + cos(i * 0.7) + 0.1 * (i % 5) > 0.5)::int::float8 AS y
    FROM generate_series(1, 3000) i""")
cur.execute("ANALYZE ex_rows")
cur.execute("""CREATE TABLE ex_models AS
    SELECT (SELECT scfrisk.xgb_train(x, y, '{"n_estimators": 10, "max_depth": 3}') FROM ex_rows) AS gbt,
           (SELECT scfrisk.mlp_train(x, y, '{"hidden": [6], "epochs": 3, "seed": 2}') FROM ex_rows) AS mlp""")

Q = """SELECT md5(string_agg(scfrisk.explain_array(m.gbt, x)::text || scfrisk.explain_array(m.mlp, x)::text
                            || (SELECT coalesce(string_agg(feature::text, ','), '') FROM scfrisk.reason_codes(m.gbt, x, 3)),
                            ';' ORDER BY i))
       FROM ex_rows, ex_models m WHERE i % 10 = 0"""
cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute(Q)
serial = cur.fetchone()[0]
cur.execute("SET max_parallel_workers_per_gather = 2")
cur.execute("SET parallel_setup_cost = 0")
cur.execute("SET parallel_tuple_cost = 0")
cur.execute("SET min_parallel_table_scan_size = 0")
cur.execute("EXPLAIN " + Q)
plan = "\n".join(r[0] for r in cur.fetchall())
cur.execute(Q)
parallel = cur.fetchone()[0]
t.ok("Gather" in plan, "the explain query gets a parallel plan", plan)
t.ok(serial == parallel, "a parallel scan explains the rows as a serial one does")

other = psycopg2.connect("")
ocur = other.cursor()
ocur.execute(Q)
t.ok(ocur.fetchone()[0] == serial, "another session gets the same explanations (the mlp's 10 features: sampled, seeded)")
other.close()
cur.execute("DROP TABLE ex_rows, ex_models")
conn.close()
t.done()

#!/usr/bin/python3
"""Multi-server test: one logistic regression over all shards (scfrisk.logreg_train_sharded).

Three loopback shard clusters (test/pylib/loopback.py), each with scfrisk and
one segment of a loan table; the coordinator sees them as a list-partitioned
table of postgres_fdw foreign partitions. Checked:

- the sharded model against logreg_train over a local copy of the union of
  the rows (the closed truth: the same data on one server), with and without
  an intercept: coefficients within 1e-8 relative, scores within 1e-9 on every
  row, the same objective (1e-12 relative), Newton iterations where the
  tolerance is above the gradient's rounding noise, at most 2 i + 2 round
  trips to the shards for i iterations (the coordinator's DEBUG1 line), training rows, and
  explanations (against the background mean) within 1e-8 of the largest;
  rows with a NULL label are skipped alike;
- the work is pushed down: auto_explain of the queries logreg_train_sharded
  runs shows the load aggregate over each partition and every later step on
  the one-row view scfrisk.shard_unit; seventy trainings fit in one
  transaction (a shard drops a training's rows after its last job);
- what does not shard, or is bad input, is refused with its SQLSTATE before
  any model is saved (plain table, calibrate, an unknown parameter, a missing
  element or a label other than 0/1 on one shard, one class over all shards,
  widths that differ); a cancel ends the shards' work; a shard that is down
  is an error naming it, and no model is saved.
Model bytes differ from logreg_train's where the sums' order shows: each shard
sums its own rows, the coordinator adds the shards' sums; and the sharded model
has no training distributions (drift needs every row's score in one place).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402
import loopback  # noqa: E402
from loopback import sqlstate_of  # noqa: E402

SEGMENTS = ["asia", "eu", "us"]
ROWS = [1500, 1000, 1200]

t = Tap()
shards = loopback.shards(len(SEGMENTS))

# Each shard: its segment's rows, four features on different scales, a NULL
# label in every 37th row (skipped by both trainers).
GEN = """
CREATE TABLE loans_local AS
SELECT %(seg)s::text AS seg, k AS loan_id,
	   ARRAY[2 * u(k, 1) - 1, 100 * u(k, 2), u(k, 3), floor(10 * u(k, 4))] AS f,
	   CASE WHEN k %% 37 = 0 THEN NULL ELSE
	   (u(k, 6) < 1 / (1 + exp(-(3 * (2 * u(k, 1) - 1) - 0.02 * 100 * u(k, 2) + u(k, 3)
							   + 0.1 * floor(10 * u(k, 4)) + %(shift)s))))::int::float8 END AS y
FROM generate_series(%(lo)s, %(hi)s) k;
"""
co = psycopg2.connect("")
co.autocommit = True
cur = co.cursor()
loopback.attach(cur, shards)
loopback.sharded_table(cur, shards, SEGMENTS, ROWS, GEN, "loans", "seg text, loan_id int, f float8[], y float8")
cur.execute("SELECT count(*) FROM loans_all WHERE y IS NOT NULL")
N = cur.fetchone()[0]


def info(model):
    cur.execute("SELECT scfrisk.model_info(%s)", (model,))
    return cur.fetchone()[0]


def compare(what, single, sharded, same_steps):
    a, b = info(single), info(sharded)
    ca = a["info"]["coef"] + [a["info"]["intercept"]]
    cb = b["info"]["coef"] + [b["info"]["intercept"]]
    scale = max(abs(x) for x in ca)
    rel = max(abs(x - y) for x, y in zip(ca, cb)) / scale
    t.ok(len(ca) == len(cb) and rel <= 1e-8,
         "%s: coefficients and intercept within 1e-8 relative of logreg_train's on one server "
         "(largest %.3g)" % (what, rel), "%s\n%s" % (ca, cb))
    t.ok(abs(a["info"]["objective"] - b["info"]["objective"]) <= 1e-12 * abs(a["info"]["objective"]),
         "%s: the same objective at the optimum (to 1e-12 relative)" % what, "%s\n%s" % (a["info"], b["info"]))
    if same_steps:
        t.ok(a["info"]["iterations"] == b["info"]["iterations"] and a["info"]["converged"] and b["info"]["converged"],
             "%s: the same Newton iterations (%d), both converged" % (what, a["info"]["iterations"]),
             "%s\n%s" % (a["info"], b["info"]))
    else:
        # tol 1e-10 (the default) is near the rounding noise of a gradient summed over
        # thousands of rows, so where each run stops depends on its sum order
        print("# %s: Newton iterations %d (converged %s) on one server, %d (converged %s) sharded"
              % (what, a["info"]["iterations"], a["info"]["converged"], b["info"]["iterations"],
                 b["info"]["converged"]))
    t.ok(a["train_rows"] == b["train_rows"] == N and a["params"] == b["params"],
         "%s: the same training rows (%s) and params" % (what, b["train_rows"]))
    cur.execute("SELECT max(abs(scfrisk.predict(%s, f) - scfrisk.predict(%s, f))), count(*) FROM loans_all",
                (single, sharded))
    diff, n = cur.fetchone()
    t.ok(diff <= 1e-9 and n == sum(ROWS), "%s: scores within 1e-9 on all %d rows (largest %.3g)"
         % (what, n, diff))
    # a linear model is explained against the training means (the background)
    cur.execute("SELECT max(abs(e.a - e.b)) / max(abs(e.a)) FROM loans_all, "
                "unnest(scfrisk.explain_array(%s, f), scfrisk.explain_array(%s, f)) AS e(a, b)",
                (single, sharded))
    ediff = cur.fetchone()[0]
    t.ok(ediff is not None and ediff <= 1e-8,
         "%s: explanations against the training means within 1e-8 of the largest (largest difference "
         "%.3g relative)" % (what, ediff))
    print("# %s: model bytes %s (sum order; no training distributions in the sharded model)"
          % (what, "identical" if bytes(single) == bytes(sharded) else "differ"))


# 1. the sharded model is logreg_train's model over the union
for what, params, same_steps in (
        ("intercept, C 1, default tol", '{"feature_names": ["a", "b", "c", "d"]}', False),
        ("no intercept, C 0.05, tol 1e-6", '{"fit_intercept": false, "C": 0.05, "tol": 1e-6}', True)):
    cur.execute("SELECT scfrisk.logreg_train(f, y, %s) FROM loans_all", (params,))
    single = bytes(cur.fetchone()[0])
    del co.notices[:]
    cur.execute("SET client_min_messages = debug1")
    cur.execute("SELECT scfrisk.logreg_train_sharded('loans', 'f', 'y', %s)", (params,))
    sharded = bytes(cur.fetchone()[0])
    cur.execute("RESET client_min_messages")
    compare(what, single, sharded, same_steps)
    # each round trip is a query on every shard: a line search comparing roundings
    # used to spend ~30 an iteration (issue 20)
    trips = [re.search(r"logreg_train_sharded: (\d+) Newton iterations, (\d+) round trips", n)
             for n in co.notices]
    trips = [m for m in trips if m]
    t.ok(len(trips) == 1 and int(trips[0].group(2)) <= 2 * int(trips[0].group(1)) + 2,
         "%s: at most 2 i + 2 round trips to the shards after the load for i Newton iterations (%s)"
         % (what, trips[0].group(0) if trips else "no DEBUG1 line"))

# 2. pushed down: the load reads each partition on its shard, every later step the one-row view
notices, remote_lines = loopback.explained(co, cur, "SELECT length(scfrisk.logreg_train_sharded('loans', 'f', 'y'))")
STEP = loopback.STEP_SQL
LOAD = re.compile(r"Remote SQL: SELECT \d+, scfrisk\.logreg_shard_load\(f, y, \d+::bigint\) "
                  r"FROM public\.loans_local")
steps = [n for n in notices if STEP.search(n)]
t.ok(len(steps) >= 3 and all(len(STEP.findall(n)) == 3 for n in steps),
     "auto_explain: every Newton step runs scfrisk.xgb_shard_step on all three shards, reading no "
     "partition (%d queries)" % len(steps), remote_lines)
t.ok(any(len(LOAD.findall(n)) == 3 for n in notices),
     "auto_explain: the rows are loaded and summed on the three shards", remote_lines)

cur.execute("BEGIN")
cur.execute("SELECT count(DISTINCT md5(scfrisk.logreg_train_sharded('loans', 'f', 'y'))) "
            "FROM generate_series(1, 70)")
distinct = cur.fetchone()[0]
cur.execute("COMMIT")
t.ok(distinct == 1, "seventy sharded trainings in one transaction: one model, no shard runs out of sessions")

# 3. refused, no model saved
cur.execute("CREATE TABLE models (name text, model bytea)")
cur.execute("CREATE TABLE plain (seg text, f float8[], y float8)")
CASES = [
    ("a plain table", "scfrisk.logreg_train_sharded('plain', 'f', 'y')", "22023", "not a partitioned table"),
    ("calibrate", "scfrisk.logreg_train_sharded('loans', 'f', 'y', '{\"calibrate\": \"platt\"}')",
     "0A000", "calibrate"),
    ("an unknown parameter", "scfrisk.logreg_train_sharded('loans', 'f', 'y', '{\"n_trees\": 3}')",
     "22023", "n_trees"),
    ("feature_names of another width",
     "scfrisk.logreg_train_sharded('loans', 'f', 'y', '{\"feature_names\": [\"a\"]}')", "22023",
     "feature_names"),
    ("a label column that does not exist", "scfrisk.logreg_train_sharded('loans', 'f', 'label')",
     "42703", "label"),
    ("NULL features", "scfrisk.logreg_train_sharded('loans', NULL, 'y')", "22004", "NULL"),
]
c3 = shards[2].connect()
s3 = c3.cursor()


def refused(what, call, want, word):
    st, msg = sqlstate_of(cur, "INSERT INTO models SELECT 'x', %s" % call)
    t.ok(st == want and word in (msg or ""), "%s: %s (%s)" % (what, want, (msg or "").splitlines()[0] if msg else st))


for case in CASES:
    refused(*case)
s3.execute("INSERT INTO loans_local VALUES ('us', -1, ARRAY[1, NULL, 3, 4], 0)")
refused("a missing element on one shard", "scfrisk.logreg_train_sharded('loans', 'f', 'y')", "22004", "NULL")
s3.execute("UPDATE loans_local SET f = ARRAY[1, 2, 3] WHERE loan_id = -1")
refused("feature widths that differ", "scfrisk.logreg_train_sharded('loans', 'f', 'y')", "22000",
        "differ in width")
s3.execute("UPDATE loans_local SET f = ARRAY[1, 2, 3, 4], y = 2 WHERE loan_id = -1")
refused("a label other than 0 or 1 on one shard", "scfrisk.logreg_train_sharded('loans', 'f', 'y')",
        "22000", "0 or 1")
s3.execute("DELETE FROM loans_local WHERE loan_id = -1")
cur.execute("CREATE TABLE ones (seg text, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE FOREIGN TABLE ones_eu PARTITION OF ones FOR VALUES IN ('eu') SERVER shard_2 "
            "OPTIONS (table_name 'loans_local')")
cur.execute("CREATE FOREIGN TABLE ones_us PARTITION OF ones FOR VALUES IN ('us') SERVER shard_3 "
            "OPTIONS (table_name 'loans_local')")
s3.execute("CREATE TABLE pos_local AS SELECT seg, f, 1::float8 AS y FROM loans_local LIMIT 5")
c2 = shards[1].connect()
c2.cursor().execute("CREATE TABLE pos_local AS SELECT seg, f, 1::float8 AS y FROM loans_local LIMIT 5")
c2.close()
cur.execute("ALTER FOREIGN TABLE ones_eu OPTIONS (SET table_name 'pos_local')")
cur.execute("ALTER FOREIGN TABLE ones_us OPTIONS (SET table_name 'pos_local')")
refused("one class over all shards (each shard alone is fine to load)",
        "scfrisk.logreg_train_sharded('ones', 'f', 'y')", "22000", "only one class")
cur.execute("SELECT count(*) FROM models")
t.ok(cur.fetchone()[0] == 0, "no refused training saved a model")

# 4. a cancel on the coordinator ends the shards' work
loopback.check_cancel(t, cur, shards[0], "SELECT count(scfrisk.logreg_train_sharded('loans', 'f', 'y')) "
                       "FROM generate_series(1, 100000)",
                      "the long sharded trainings")

# 5. a shard that is down: an error naming it, and no partial model saved
loopback.check_down(t, cur, shards[2], "shard_3",
                    "INSERT INTO models SELECT 'x', scfrisk.logreg_train_sharded('loans', 'f', 'y')")

co.close()
t.done()

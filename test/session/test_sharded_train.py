#!/usr/bin/python3
"""Multi-server test: one model over all shards (scfrisk.xgb_train_sharded).

Three loopback shard clusters (made here on 127.0.0.1, removed at the end,
the harness of test_scale_out.py), each with scfrisk and one segment of a
loan table; the coordinator sees them as a list-partitioned table of
postgres_fdw foreign partitions (`extensions 'scfrisk'`, `async_capable`).
Checked:

- the sharded model against xgb_train over a local copy of the union of the
  rows (the closed truth: the same data on one server): the same trees
  (split features, conditions and missing directions equal; leaf values
  within 1e-6), scores within 1e-6 on every row, the same training log to
  1e-9, unweighted and weighted, with column sampling;
- the shard work is pushed down: EXPLAIN VERBOSE of the shard aggregates
  over a foreign partition shows them in the Remote SQL, auto_explain of
  the queries xgb_train_sharded itself runs shows the sketch on each shard,
  and each shard's statement log shows one step query per tree level (the
  count the coordinator's DEBUG1 line gives and the trees' depths imply),
  none reading the partition after the sketch; seventy trainings fit in
  one transaction (a shard frees a training's rows after its last step);
- what does not shard is refused before any training with the SQLSTATEs of
  scfrisk.check_shards (plain table, local partition, server without the
  extensions option, widths that differ, a shard that is down), and what
  the sharded trainer cannot do (subsample, early stopping) with 0A000;
  a failing shard saves no partial model; a cancel ends the shards' work.
The wall times of the sharded and the single-server training are printed,
never asserted (one loaded 2-core machine runs all four servers).
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402
import loopback  # noqa: E402
from loopback import sqlstate_of  # noqa: E402

SEGMENTS = ["asia", "eu", "us"]
ROWS = [3000, 2000, 2500]
PARAMS = '{"n_estimators": 20, "max_depth": 4, "eta": 0.3, "seed": 7}'

t = Tap()

shards = loopback.shards(len(SEGMENTS))

# Each shard: scfrisk and its segment's rows (a weight column; a missing
# element in every 11th row; a coarse feature with few distinct values).
GEN = """
CREATE TABLE loans_local AS
SELECT %(seg)s::text AS seg, k AS loan_id,
	   ARRAY[2 * u(k, 1) - 1, 2 * u(k, 2) - 1, u(k, 3), floor(10 * u(k, 4)),
			 CASE WHEN k %% 11 = 0 THEN NULL ELSE u(k, 5) END] AS f,
	   (u(k, 6) < 1 / (1 + exp(-(2 * u(k, 1) - 1) * (2 * u(k, 2) - 1) * 4 - u(k, 3) + 0.5
							   + %(shift)s)))::int::float8 AS y,
	   0.5 + u(k, 9) AS w
FROM generate_series(%(lo)s, %(hi)s) k;
"""
co = psycopg2.connect("")
co.autocommit = True
cur = co.cursor()
loopback.attach(cur, shards)
loopback.sharded_table(cur, shards, SEGMENTS, ROWS, GEN, "loans", "seg text, loan_id int, f float8[], y float8, w float8")


def trees(model):
    cur.execute("SELECT scfrisk.xgb_to_json(%s)", (model,))
    doc = cur.fetchone()[0]
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    return doc["learner"]["gradient_booster"]["model"]["trees"]


def compare(what, single, sharded):
    """The sharded model against the single-server one: trees, scores, training log."""
    a, b = trees(single), trees(sharded)
    same = len(a) == len(b)
    leaf = 0.0
    n_split = 0
    for ta, tb in zip(a, b):
        if ta["left_children"] != tb["left_children"] or ta["right_children"] != tb["right_children"]:
            same = False
            break
        for k, left in enumerate(ta["left_children"]):
            if left >= 0:
                n_split += 1
                same &= (ta["split_indices"][k] == tb["split_indices"][k]
                         and ta["split_conditions"][k] == tb["split_conditions"][k]
                         and ta["default_left"][k] == tb["default_left"][k])
            else:
                leaf = max(leaf, abs(ta["split_conditions"][k] - tb["split_conditions"][k]))
    t.ok(same, "%s: %d trees, the same %d splits as xgb_train on one server (feature, condition, "
         "missing direction)" % (what, len(a), n_split))
    t.ok(leaf <= 1e-6, "%s: leaf values within 1e-6 (largest difference %.3g)" % (what, leaf))
    cur.execute("SELECT max(abs(scfrisk.predict(%s, f) - scfrisk.predict(%s, f))), count(*) FROM loans_all",
                (single, sharded))
    diff, n = cur.fetchone()
    t.ok(diff <= 1e-6 and n == sum(ROWS), "%s: scores within 1e-6 on all %d rows (largest %.3g)"
         % (what, n, diff))
    cur.execute("SELECT scfrisk.model_info(%s) -> 'info', scfrisk.model_info(%s) -> 'info', "
                "scfrisk.model_info(%s) -> 'train_rows', scfrisk.model_info(%s) -> 'train_rows'",
                (single, sharded, single, sharded))
    ia, ib, ra, rb = cur.fetchone()
    la = (ia or {}).get("eval_log", {}).get("train")
    lb = (ib or {}).get("eval_log", {}).get("train")
    t.ok(ra == rb == sum(ROWS) and la is not None and lb is not None and len(la) == len(lb)
         and all(abs(x - y) <= 1e-9 for x, y in zip(la, lb)),
         "%s: the same training rows (%s) and training log per round (to 1e-9)" % (what, ra),
         "%s\n%s" % (ia, ib))
    print("# %s: model bytes %s (the sharded model has no training distributions: "
          "those need every row's score on one server)"
          % (what, "identical" if bytes(single) == bytes(sharded) else "differ"))


# 1. the sharded model is xgb_train's model over the union
t0 = time.time()
cur.execute("SELECT scfrisk.xgb_train(f, y, %s) FROM loans_all", (PARAMS,))
single_s = time.time() - t0
single = bytes(cur.fetchone()[0])
t0 = time.time()
cur.execute("SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', %s)", (PARAMS,))
sharded_s = time.time() - t0
sharded = bytes(cur.fetchone()[0])
compare("unweighted", single, sharded)
print("# wall time, %d rows over three loopback shards: xgb_train_sharded %.2f s, xgb_train on one "
      "server %.2f s (ratio %.2f; one loaded 2-core machine runs all four servers, so this is no "
      "measure of a real deployment)" % (sum(ROWS), sharded_s, single_s, sharded_s / single_s))

WPARAMS = ('{"n_estimators": 15, "max_depth": 3, "eta": 0.3, "colsample_bytree": 0.8, '
           '"colsample_bylevel": 0.75, "max_bin": 32, "scale_pos_weight": 1.5, "seed": 3}')
cur.execute("SELECT scfrisk.xgb_train(f, y, w, %s) FROM loans_all", (WPARAMS,))
wsingle = bytes(cur.fetchone()[0])
cur.execute("SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', %s, weight => 'w')", (WPARAMS,))
wsharded = bytes(cur.fetchone()[0])
compare("weighted, column sampling, max_bin 32", wsingle, wsharded)

# 2. the shard work is pushed down
cur.execute("EXPLAIN (VERBOSE, COSTS OFF) SELECT scfrisk.xgb_shard_sketch(f, y, 1::float8, 7::int8) "
            "FROM loans_eu")
plan = "\n".join(r[0] for r in cur.fetchall())
t.ok("Remote SQL: SELECT scfrisk.xgb_shard_sketch(f, y, 1::double precision, 7::bigint)" in plan,
     "EXPLAIN VERBOSE: the shard aggregate over a foreign partition runs on the shard", plan)
notices, remote_lines = loopback.explained(
    co, cur, "SELECT length(scfrisk.xgb_train_sharded('loans', 'f', 'y', '{\"n_estimators\": 1, \"max_depth\": 2}'))")
logged = "".join(notices)
SKETCH = re.compile(r"Remote SQL: SELECT \d+, scfrisk\.xgb_shard_sketch\(f, y, 1::double precision, "
                    r"\d+::bigint\) FROM public\.loans_local")
t.ok(any(len(SKETCH.findall(n)) == 3 for n in notices),
     "auto_explain: the sketches are computed on the three shards", remote_lines)

# After the sketch every step goes over postgres_fdw's connections as one query per shard
# (gbt_dist_pg.c): each shard's statement log shows the steps, and no statement after the
# sketch reads the partition; the coordinator's DEBUG1 line counts the steps, one per tree
# level: a tree's root, each level below it but the last, and the job that closes the last tree.
STEP = "SELECT s, scfrisk.xgb_shard_step(s, $2) FROM pg_catalog.unnest($1::pg_catalog.int8[]) s"


def log_statements(on):
    """Every shard logs its statements (without their parameters: the jobs), or stops."""
    for sh in shards:
        c = sh.connect()
        for name, value in (("log_statement", "'all'"), ("log_parameter_max_length", "0")):
            c.cursor().execute("ALTER SYSTEM SET %s = %s" % (name, value) if on else "ALTER SYSTEM RESET " + name)
        c.cursor().execute("SELECT pg_reload_conf()")
        c.close()


log_statements(True)
time.sleep(0.5)
start = [os.path.getsize(sh.dir + "/server.log") for sh in shards]
TPARAMS = '{"n_estimators": 3, "max_depth": 3, "eta": 0.3}'
co.notices = []
cur.execute("SET client_min_messages = debug1")
cur.execute("SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', %s)", (TPARAMS,))
tmodel = bytes(cur.fetchone()[0])
cur.execute("RESET client_min_messages")
traffic = [n for n in co.notices if "steps to" in n]
m = re.search(r"xgb_train_sharded: (\d+) steps to (\d+) servers, (\d+) bytes of jobs and (\d+) bytes of replies",
              "".join(traffic))


def tree_depth(tr):
    depth, todo = 0, [(0, 0)]
    while todo:
        k, d = todo.pop()
        depth = max(depth, d)
        if tr["left_children"][k] >= 0:
            todo += [(tr["left_children"][k], d + 1), (tr["right_children"][k], d + 1)]
    return depth


want_steps = 1 + sum(1 + min(tree_depth(tr), 3 - 1) for tr in trees(tmodel))
t.ok(m is not None and int(m.group(1)) == want_steps and int(m.group(2)) == 3,
     "DEBUG1: %s steps to 3 servers, one per tree level (%d expected from the trees' depths)"
     % (m.group(1) if m else None, want_steps), "".join(co.notices))
for i, sh in enumerate(shards):
    with open(sh.dir + "/server.log", errors="replace") as f:
        f.seek(start[i])
        entries = []
        for line in f:  # a statement's continuation lines belong to its entry
            if line[:1].isspace() and entries:
                entries[-1] += line
            else:
                entries.append(line)
    stmts = [e for e in entries if "statement: " in e or "execute " in e]
    steps = [line for line in stmts if STEP in line]
    reads = [line for line in stmts if "loans_local" in line]
    sketch = [line for line in reads if "xgb_shard_sketch" in line]
    after = stmts[stmts.index(sketch[0]) + 1:] if sketch else stmts
    t.ok(len(steps) == want_steps and len(sketch) == 1 and not any("loans_local" in line for line in after),
         "%s: the sketch reads the partition once, then %d steps read none" % (sh.name, len(steps)),
         "".join(stmts[-20:]))
log_statements(False)
t.ok("Async Foreign Scan" in logged, "with async_capable the shards' parts run asynchronously")

# a shard frees a training's rows after its last job, not at the end of the remote transaction
# (one backend holds at most 64 sessions): seventy trainings in one transaction
cur.execute("BEGIN")
cur.execute("SELECT count(DISTINCT md5(scfrisk.xgb_train_sharded('loans', 'f', 'y', "
            "'{\"n_estimators\": 1, \"max_depth\": 2}'))) FROM generate_series(1, 70)")
distinct = cur.fetchone()[0]
cur.execute("COMMIT")
t.ok(distinct == 1, "seventy sharded trainings in one transaction: one model, no shard runs out of sessions")

# 3. refused before any training
cur.execute("CREATE TABLE models (name text, model bytea)")
CASES = []
cur.execute("CREATE TABLE plain (seg text, f float8[], y float8)")
CASES.append(("a plain table", "SELECT scfrisk.xgb_train_sharded('plain', 'f', 'y')", "22023",
              "not a partitioned table"))
cur.execute("CREATE TABLE mixed (seg text, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE FOREIGN TABLE mixed_eu PARTITION OF mixed FOR VALUES IN ('eu') SERVER shard_2 "
            "OPTIONS (table_name 'loans_local')")
cur.execute("CREATE TABLE mixed_local PARTITION OF mixed FOR VALUES IN ('local')")
CASES.append(("a local partition", "SELECT scfrisk.xgb_train_sharded('mixed', 'f', 'y')", "42809",
              "mixed_local"))
cur.execute("CREATE SERVER plain_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '%d', "
            "dbname 'postgres')" % shards[1].port)
cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER plain_srv OPTIONS (user 'postgres')")
cur.execute("CREATE TABLE noext (seg text, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE FOREIGN TABLE noext_eu PARTITION OF noext FOR VALUES IN ('eu') SERVER plain_srv "
            "OPTIONS (table_name 'loans_local')")
CASES.append(("a server without extensions 'scfrisk'",
              "SELECT scfrisk.xgb_train_sharded('noext', 'f', 'y')", "22023", "plain_srv"))
CASES.append(("a label column that does not exist",
              "SELECT scfrisk.xgb_train_sharded('loans', 'f', 'label')", "42703", "label"))
CASES.append(("a features column that is not float8[]",
              "SELECT scfrisk.xgb_train_sharded('loans', 'y', 'y')", "42703", "float8[]"))
CASES.append(("subsample below 1", "SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', "
              "'{\"subsample\": 0.5}')", "0A000", "subsample"))
CASES.append(("early stopping", "SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', "
              "'{\"early_stopping_rounds\": 3}')", "0A000", "early_stopping_rounds"))
CASES.append(("an unknown parameter", "SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', "
              "'{\"n_trees\": 3}')", "22023", "n_trees"))
CASES.append(("feature_names of another width", "SELECT scfrisk.xgb_train_sharded('loans', 'f', 'y', "
              "'{\"feature_names\": [\"a\", \"b\"]}')", "22023", "feature_names"))
CASES.append(("NULL features", "SELECT scfrisk.xgb_train_sharded('loans', NULL, 'y')", "22004", "NULL"))
for what, sql, want, word in CASES:
    st, msg = sqlstate_of(cur, "INSERT INTO models SELECT 'x', (%s)" % sql.replace("SELECT ", "SELECT ", 1))
    t.ok(st == want and word in (msg or ""), "%s: %s (%s)" % (what, want, (msg or "").splitlines()[0] if msg else st))
c3 = shards[2].connect()
c3.cursor().execute("INSERT INTO loans_local VALUES ('us', -1, ARRAY[1, 2, 3], 0, 1)")
st, msg = sqlstate_of(cur, "INSERT INTO models SELECT 'x', scfrisk.xgb_train_sharded('loans', 'f', 'y')")
t.ok(st == "22000" and "differ in width" in msg, "feature widths that differ: 22000 (%s)" % msg.splitlines()[0])
c3.cursor().execute("DELETE FROM loans_local WHERE loan_id = -1")
c3.cursor().execute("UPDATE loans_local SET y = 2 WHERE loan_id = (SELECT min(loan_id) FROM loans_local)")
st, msg = sqlstate_of(cur, "INSERT INTO models SELECT 'x', scfrisk.xgb_train_sharded('loans', 'f', 'y')")
t.ok(st == "22000" and "0 or 1" in msg, "a label other than 0 or 1 on one shard: 22000 (%s)" % msg.splitlines()[0])
c3.cursor().execute("UPDATE loans_local SET y = 0 WHERE y = 2")
c3.close()

# 4. a cancel on the coordinator ends the shards' work
loopback.check_cancel(t, cur, shards[0], "SELECT length(scfrisk.xgb_train_sharded('loans', 'f', 'y', "
                       "'{\"n_estimators\": 5000, \"max_depth\": 6, \"eta\": 0.01}'))",
                      "the long sharded training")

# 5. a shard that is down: an error naming it, and no partial model saved
loopback.check_down(t, cur, shards[2], "shard_3",
                    "INSERT INTO models SELECT 'x', scfrisk.xgb_train_sharded('loans', 'f', 'y', %s)", (PARAMS,))

co.close()
t.done()

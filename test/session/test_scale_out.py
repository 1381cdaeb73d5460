#!/usr/bin/python3
"""Multi-server test: scfrisk over PostgreSQL's own sharding.

Three loopback shard clusters (made here on 127.0.0.1, removed at the end),
each with scfrisk installed, hold one segment each of a loan table; the
coordinator (the throwaway cluster of scripts/cluster.sh) sees them as one
list-partitioned table whose partitions are postgres_fdw foreign tables on
servers with `extensions 'scfrisk'` and `async_capable 'true'`
(docs/scale-out.md).  Checked:

- scfrisk.check_shards finds every shard, its version and feature width,
  and refuses what would not shard (a plain table, a local partition, a
  server without the extensions option, a shard without scfrisk or with an
  older one, mixed widths, a shard that is down) with SQLSTATEs that name
  the server;
- segment training (GROUP BY the partition key) is pushed down whole
  (EXPLAIN VERBOSE), and each segment's model is byte-identical to the model
  trained on that shard directly;
- scoring inside aggregates is pushed down and equals the same aggregates
  over a local copy of the rows;
- a per-seller risk view computed on the shards (a view on each shard,
  foreign partitions over the views, the model shipped to the shards by
  value) equals the single-server view row for row;
- a cancel on the coordinator ends the shards' work;
- a failing shard leaves no partial model behind.
The wall time of a three-shard training against the sum of the shards'
own times is printed, not asserted (one 2-core machine: no speed-up to see).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402
import loopback  # noqa: E402
from loopback import sqlstate_of  # noqa: E402

SEGMENTS = ["asia", "eu", "us"]
ROWS = 6000
PARAMS = '{"n_estimators": 30, "max_depth": 4, "eta": 0.2, "seed": 7}'

t = Tap()

shards = loopback.shards(len(SEGMENTS))

# Each shard: scfrisk and its segment's rows, from a hash generator that
# gives the same rows wherever it runs.
GEN = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
CREATE FUNCTION u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;
CREATE TABLE loans_local AS
SELECT %(seg)s::text AS seg, k AS loan_id,
	   ARRAY[2 * u(k, 1) - 1, 2 * u(k, 2) - 1, u(k, 3), 10 * u(k, 4),
			 CASE WHEN k %% 11 = 0 THEN NULL ELSE u(k, 5) END] AS f,
	   (u(k, 6) < 1 / (1 + exp(-(2 * u(k, 1) - 1) * 2 - u(k, 3) + 0.5 + %(shift)s)))::int::float8 AS y
FROM generate_series(%(lo)s, %(hi)s) k;
CREATE TABLE sellers_local AS
SELECT %(seg)s::text AS seg, k AS seller_id, ARRAY[u(k, 7), 2 * u(k, 8)] AS x
FROM generate_series(%(lo)s, %(lo)s + 199) k;
CREATE TABLE shard_models (name text PRIMARY KEY, model bytea NOT NULL);
CREATE VIEW seller_risk_curve_local AS
SELECT s.seg, s.seller_id, c.loan, c.pd, c.el, c.cvar
FROM sellers_local s, shard_models m,
	 LATERAL scfrisk.loan_risk_curve(m.model, s.x, ARRAY[0.5, 1, 2, 4]::float8[], '{"rate": 0.03}') c
WHERE m.name = 'sales';
"""
direct_md5 = {}
direct_s = {}
for i, (seg, sh) in enumerate(zip(SEGMENTS, shards)):
    c = sh.connect()
    cur = c.cursor()
    cur.execute(GEN, {"seg": seg, "shift": 0.3 * i, "lo": i * ROWS + 1, "hi": (i + 1) * ROWS})
    t0 = time.time()
    cur.execute("SELECT md5(scfrisk.xgb_train(f, y, %s)) FROM loans_local", (PARAMS,))
    direct_s[seg] = time.time() - t0
    direct_md5[seg] = cur.fetchone()[0]
    c.close()

co = psycopg2.connect("")
co.autocommit = True
cur = co.cursor()
loopback.attach(cur, shards, options=", fetch_size '10000'")
cur.execute("CREATE TABLE loans (seg text, loan_id int, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE TABLE sellers (seg text, seller_id int, x float8[]) PARTITION BY LIST (seg)")
cur.execute("CREATE TABLE seller_risk_curve (seg text, seller_id int, loan float8, pd float8, el float8, "
            "cvar float8) PARTITION BY LIST (seg)")
for i, seg in enumerate(SEGMENTS):
    srv = "shard_%d" % (i + 1)
    cur.execute("CREATE FOREIGN TABLE loans_%s PARTITION OF loans FOR VALUES IN ('%s') SERVER %s "
                "OPTIONS (table_name 'loans_local')" % (seg, seg, srv))
    cur.execute("CREATE FOREIGN TABLE sellers_%s PARTITION OF sellers FOR VALUES IN ('%s') SERVER %s "
                "OPTIONS (table_name 'sellers_local')" % (seg, seg, srv))
    cur.execute("CREATE FOREIGN TABLE seller_risk_curve_%s PARTITION OF seller_risk_curve FOR VALUES IN "
                "('%s') SERVER %s OPTIONS (table_name 'seller_risk_curve_local')" % (seg, seg, srv))
    cur.execute("CREATE FOREIGN TABLE shard_models_%s (name text, model bytea) SERVER %s "
                "OPTIONS (table_name 'shard_models')" % (seg, srv))

# 1. the shards check out
cur.execute("SELECT partition::text, server, scfrisk_version, n_rows, width_min, width_max "
            "FROM scfrisk.check_shards('loans', 'f') ORDER BY 1")
rows = cur.fetchall()
cur.execute("SELECT scfrisk.version()")
version = cur.fetchone()[0]
t.ok([r[1] for r in rows] == ["shard_1", "shard_2", "shard_3"] and all(r[2] == version for r in rows)
     and all(r[3] == ROWS and r[4] == 5 and r[5] == 5 for r in rows),
     "check_shards: three shards, each on scfrisk %s with %d rows of width 5" % (version, ROWS), rows)

# 2. segment training is pushed down whole and gives each shard's own model
cur.execute("SET enable_partitionwise_aggregate = on")
TRAIN = "SELECT seg, scfrisk.xgb_train(f, y, '%s') AS model FROM loans GROUP BY seg" % PARAMS
cur.execute("EXPLAIN (VERBOSE, COSTS OFF) " + TRAIN)
plan = "\n".join(r[0] for r in cur.fetchall())
remote = [line for line in plan.splitlines() if "Remote SQL:" in line]
t.ok(len(remote) == 3 and all("scfrisk.xgb_train(" in line and "GROUP BY" in line for line in remote),
     "segment training is pushed down to all three shards (Remote SQL runs scfrisk.xgb_train ... GROUP BY)",
     plan)
t.ok("Async Foreign Scan" in plan, "with async_capable the three foreign scans run asynchronously", plan)
t0 = time.time()
cur.execute("CREATE TABLE seg_models AS " + TRAIN)
wall = time.time() - t0
cur.execute("SELECT seg, md5(model) FROM seg_models ORDER BY seg")
got = dict(cur.fetchall())
t.ok(got == direct_md5, "each segment model is byte-identical to the model trained on its shard directly",
     "%s\n%s" % (got, direct_md5))
print("# three-shard segment training: %.2f s wall on the coordinator; the shards alone: %s "
      "(sum %.2f s); one 2-core machine runs all three, so no speed-up is expected here"
      % (wall, ", ".join("%s %.2f s" % (k, v) for k, v in sorted(direct_s.items())),
         sum(direct_s.values())))

# 3. scoring inside aggregates is pushed down and equals a local computation
cur.execute("SELECT model FROM seg_models WHERE seg = 'eu'")
model = bytes(cur.fetchone()[0])
SCORE = ("SELECT seg, count(*) FILTER (WHERE scfrisk.predict(%s, f) > 0.5), sum(scfrisk.predict(%s, f)) "
         "FROM {} GROUP BY seg ORDER BY seg")
cur.execute("EXPLAIN (VERBOSE, COSTS OFF) " + SCORE.format("loans"), (model, model))
plan = "\n".join(r[0] for r in cur.fetchall())
remote = [line for line in plan.splitlines() if "Remote SQL:" in line]
t.ok(len(remote) == 3 and all("scfrisk.predict(" in line for line in remote),
     "scores aggregated per segment are computed on the shards (Remote SQL runs scfrisk.predict)")
cur.execute(SCORE.format("loans"), (model, model))
sharded = cur.fetchall()
cur.execute("CREATE TABLE loans_copy AS SELECT * FROM loans")
cur.execute(SCORE.format("loans_copy"), (model, model))
local = cur.fetchall()
t.ok([r[:2] for r in sharded] == [r[:2] for r in local]
     and all(abs(a[2] - b[2]) <= 1e-9 * max(1.0, abs(b[2])) for a, b in zip(sharded, local)),
     "pushed-down scoring equals the same aggregates over a local copy (counts exact, sums to 1e-9)",
     "%s\n%s" % (sharded, local))

# 4. a risk view computed on the shards equals the single-server view
cur.execute("CREATE TABLE sellers_copy AS SELECT * FROM sellers")
cur.execute("SELECT scfrisk.qrgmm_train(x, 1 + 3 * x[1] + x[2] * (k % 7) / 7.0, '{\"m\": 20}') "
            "FROM (SELECT x, seller_id AS k FROM sellers_copy) s")
sales = bytes(cur.fetchone()[0])
for seg in SEGMENTS:
    # the model travels to every shard by value, through a foreign table
    cur.execute("DELETE FROM shard_models_%s" % seg)
    cur.execute("INSERT INTO shard_models_%s VALUES ('sales', %%s)" % seg, (sales,))
cur.execute("SELECT seg, seller_id, loan, pd, el, cvar FROM seller_risk_curve ORDER BY seg, seller_id, loan")
on_shards = cur.fetchall()
cur.execute("SELECT s.seg, s.seller_id, c.loan, c.pd, c.el, c.cvar FROM sellers_copy s, "
            "LATERAL scfrisk.loan_risk_curve(%s, s.x, ARRAY[0.5, 1, 2, 4]::float8[], '{\"rate\": 0.03}') c "
            "ORDER BY s.seg, s.seller_id, c.loan", (sales,))
single = cur.fetchall()
t.ok(len(on_shards) == 3 * 200 * 4 and on_shards == single,
     "the risk view computed on the shards equals the single-server view row for row (%d rows)"
     % len(on_shards))

# 5. a cancel on the coordinator ends the shards' work
work = psycopg2.connect("")
work.autocommit = True
wcur = work.cursor()
wcur.execute("SET enable_partitionwise_aggregate = on")
wcur.execute("SELECT pg_backend_pid()")
wpid = wcur.fetchone()[0]
result = {}


def long_train():
    try:
        # long enough to cancel (about 20,000 small trees), small enough for any
        # memory cap (scfrisk.max_memory_mb)
        wcur.execute("SELECT seg, length(scfrisk.xgb_train(f, y, '{\"n_estimators\": 20000, "
                     "\"max_depth\": 6, \"eta\": 0.01}')) FROM loans GROUP BY seg")
        result["outcome"] = "finished"
    except psycopg2.Error as e:
        result["outcome"] = e.pgcode


th = threading.Thread(target=long_train)
th.start()
probe = shards[0].connect()
pcur = probe.cursor()
# postgres_fdw runs the remote query through a cursor: while it trains, the
# shard's backend shows "FETCH ... FROM c1", so any active client backend
# of the coordinator's connection counts (the probe is the only other one)
ACTIVE = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' "
          "AND pid <> pg_backend_pid()")
deadline = time.time() + 60
seen = 0
while time.time() < deadline and th.is_alive():
    pcur.execute(ACTIVE)
    seen = pcur.fetchone()[0]
    if seen > 0:
        break
    time.sleep(0.05)
t.ok(seen > 0, "the long segment training runs on shard_1",
     "the coordinator's query ended first: %s" % result)
cur.execute("SELECT pg_cancel_backend(%s)", (wpid,))
th.join(120)
t.ok(result.get("outcome") == "57014", "the coordinator's query is cancelled (%s)" % result.get("outcome"))
deadline = time.time() + 60
while time.time() < deadline:
    pcur.execute(ACTIVE)
    if pcur.fetchone()[0] == 0:
        break
    time.sleep(0.1)
pcur.execute(ACTIVE)
t.ok(pcur.fetchone()[0] == 0, "postgres_fdw forwards the cancel: shard_1 stops training")
probe.close()
work.close()

# 6. what does not shard is refused before any training
cur.execute("CREATE TABLE plain (seg text, f float8[], y float8)")
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('plain', 'f')")
t.ok(st == "22023" and "not a partitioned table" in msg, "a plain table: 22023 (%s)" % msg)
cur.execute("CREATE TABLE mixed (seg text, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE FOREIGN TABLE mixed_eu PARTITION OF mixed FOR VALUES IN ('eu') SERVER shard_2 "
            "OPTIONS (table_name 'loans_local')")
cur.execute("CREATE TABLE mixed_local PARTITION OF mixed FOR VALUES IN ('local')")
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('mixed', 'f')")
t.ok(st == "42809" and "mixed_local" in msg, "a local partition: 42809 naming it (%s)" % msg)
cur.execute("CREATE SERVER plain_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '%d', "
            "dbname 'postgres')" % shards[1].port)
cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER plain_srv OPTIONS (user 'postgres')")
cur.execute("CREATE TABLE noext (seg text, f float8[], y float8) PARTITION BY LIST (seg)")
cur.execute("CREATE FOREIGN TABLE noext_eu PARTITION OF noext FOR VALUES IN ('eu') SERVER plain_srv "
            "OPTIONS (table_name 'loans_local')")
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('noext', 'f')")
t.ok(st == "22023" and "plain_srv" in msg and "extensions" in msg,
     "a server without extensions 'scfrisk': 22023 naming it (%s)" % msg)
# a shard database without scfrisk, and one with the older release
c1 = shards[0].connect()
c1.cursor().execute("CREATE DATABASE bare")
c1.cursor().execute("CREATE DATABASE old")
c1.close()
for db in ("bare", "old"):
    c = shards[0].connect(db)
    cc = c.cursor()
    if db == "old":
        cc.execute("CREATE EXTENSION scfrisk VERSION '0.1.0'")
    cc.execute("CREATE TABLE loans_local (seg text, f float8[], y float8)")
    cc.execute("INSERT INTO loans_local VALUES ('eu', ARRAY[1, 2], 0)")
    c.close()
    cur.execute("CREATE SERVER %s_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
                "port '%d', dbname '%s', extensions 'scfrisk')" % (db, shards[0].port, db))
    cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER %s_srv OPTIONS (user 'postgres')" % db)
    cur.execute("CREATE TABLE on_%s (seg text, f float8[], y float8) PARTITION BY LIST (seg)" % db)
    cur.execute("CREATE FOREIGN TABLE on_%s_eu PARTITION OF on_%s FOR VALUES IN ('eu') SERVER %s_srv "
                "OPTIONS (table_name 'loans_local')" % (db, db, db))
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('on_bare')")
t.ok(st == "42883" and "bare_srv" in msg and "not installed" in msg,
     "a shard without scfrisk: 42883 naming the server (%s)" % msg)
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('on_old')")
t.ok(st == "0A000" and "old_srv" in msg, "a shard on the older scfrisk: 0A000 naming the server (%s)" % msg)
c3 = shards[2].connect()
c3.cursor().execute("INSERT INTO loans_local VALUES ('us', -1, ARRAY[1, 2, 3], 0)")
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('loans', 'f')")
t.ok(st == "22000" and "differ in width" in msg, "feature widths that differ between shards: 22000 (%s)" % msg)
c3.cursor().execute("DELETE FROM loans_local WHERE loan_id = -1")
c3.close()

# 7. a shard that is down: a clear error naming it, and no partial model saved
shards[2].stop()
st, msg = sqlstate_of(cur, "SELECT * FROM scfrisk.check_shards('loans', 'f')")
t.ok(st is not None and st.startswith("08") and "shard_3" in msg,
     "a shard that is down: connection error %s naming shard_3 (%s)" % (st, msg.splitlines()[0] if msg else msg))
cur.execute("CREATE TABLE saved (seg text, model bytea)")
st, msg = sqlstate_of(cur, "INSERT INTO saved " + TRAIN)
cur.execute("SELECT count(*) FROM saved")
t.ok(st is not None and st.startswith("08") and cur.fetchone()[0] == 0,
     "training over a sharded table with a shard down fails (%s) and saves no partial model" % st)

co.close()
t.done()

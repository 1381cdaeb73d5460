#!/usr/bin/python3
"""xgb_train_sharded (or logreg_train_sharded) over three loopback shards against
xgb_train (logreg_train) on one server.

    scripts/cluster.sh /usr/bin/python3 bench/sharded_train_bench.py [--rows N] [--features P]
        [--trees T] [--depth D] [--kind xgb|logreg]

The coordinator is the cluster of scripts/cluster.sh; three shard clusters
are made on 127.0.0.1 (test/pylib/loopback.py) and hold a third of the rows
each; the coordinator holds a local copy of the union for the single-server trainer.  Both
sides train the same params alternately (benchlib); the report is the ratio
of the median wall times (issue 20's goal: at most 1.5 on one 2-core machine,
where the shards cannot run side by side in earnest), and, less sensitive to
other load, the CPU seconds all four clusters' processes used per training.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "pylib"))
sys.path.insert(0, os.path.dirname(__file__))
import psycopg2  # noqa: E402
import loopback  # noqa: E402
from benchlib import Bench, say  # noqa: E402


def cluster_cpu(dirs):
    """CPU seconds of every live process whose working directory is one of the data directories."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/cwd" % pid) not in dirs:
                continue
            with open("/proc/%s/stat" % pid) as f:
                raw = f.read()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2:].split()
        total += int(rest[11]) + int(rest[12])
    return total / hz


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kind", choices=["xgb", "logreg"], default="xgb",
                    help="the trainer: xgb_train(_sharded), or logreg_train(_sharded) with C 1")
    ap.add_argument("--perf", help="after the runs, record one sharded training's cpu-clock profile "
                    "of the four clusters' processes into this file (perf record)")
    a = ap.parse_args()
    if a.kind == "xgb":
        params = '{"n_estimators": %d, "max_depth": %d, "eta": 0.3, "seed": 7}' % (a.trees, a.depth)
        what = "%d trees of depth %d" % (a.trees, a.depth)
    else:
        params = '{"C": 1}'
        what = "logistic regression, C 1"
    sharded_sql = "SELECT length(scfrisk.%s_train_sharded('bench_loans', 'f', 'y', %%s))" % a.kind
    single_sql = "SELECT length(scfrisk.%s_train(f, y, %%s)) FROM bench_loans_all" % a.kind
    shards = loopback.shards(3)
    bench = Bench()
    gen = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
CREATE TABLE loans_local AS
SELECT %(part)s AS part, k AS loan_id, f, (random() < 1 / (1 + exp(-(f[1] * f[2] * 3 + f[3] - 0.5))))::int::float8 AS y
FROM (SELECT k, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %(p)s) j WHERE k > -j) AS f
      FROM generate_series(1, %(n)s) k) s;
"""
    for i, sh in enumerate(shards):
        c = sh.connect()
        c.cursor().execute("SELECT setseed(%s)", (0.1 * sh.port % 1,))
        c.cursor().execute(gen, {"p": a.features, "n": a.rows // 3, "part": i + 1})
        c.close()
    co = psycopg2.connect("")
    co.autocommit = True
    cur = co.cursor()
    cur.execute("DROP TABLE IF EXISTS bench_loans, bench_loans_all CASCADE")
    for i in range(len(shards)):
        cur.execute("DROP SERVER IF EXISTS bench_shard_%d CASCADE" % (i + 1))
    loopback.attach(cur, shards, prefix="bench_shard")
    cur.execute("CREATE TABLE bench_loans (part int, loan_id int, f float8[], y float8) PARTITION BY LIST (part)")
    for i in range(len(shards)):
        cur.execute("CREATE FOREIGN TABLE bench_loans_%d PARTITION OF bench_loans FOR VALUES IN (%d) "
                    "SERVER bench_shard_%d OPTIONS (table_name 'loans_local')" % (i + 1, i + 1, i + 1))
    cur.execute("CREATE TABLE bench_loans_all AS SELECT * FROM bench_loans")
    cur.execute("SHOW data_directory")
    dirs = {cur.fetchone()[0]} | {sh.dir + "/data" for sh in shards}
    dirs = {os.path.realpath(d) for d in dirs}
    cpu = {"single": [], "sharded": []}

    def run(name, sql):
        def fn():
            c0 = cluster_cpu(dirs)
            t0 = time.perf_counter()
            cur.execute(sql, (params,))
            cur.fetchone()
            wall = time.perf_counter() - t0
            cpu[name].append(cluster_cpu(dirs) - c0)
            return wall
        return fn

    times = bench.alternate({
        "sharded": run("sharded", sharded_sql),
        "single": run("single", single_sql),
    }, repeat=a.repeat)
    say("rows", "%d over 3 shards, %d features, %s" % (a.rows, a.features, what))
    bench.report("train", times, "sharded", "single")
    for name in cpu:
        cpu[name].sort()
        say("train_%s_cpu_s" % name, "%.3f median of the four clusters' processes" % cpu[name][len(cpu[name]) // 2])
    say("train_cpu_ratio_sharded_over_single", "%.3g" % (cpu["sharded"][len(cpu["sharded"]) // 2]
                                                       / cpu["single"][len(cpu["single"]) // 2]))
    if a.kind == "xgb":
        # the sharded trainer's DEBUG1 line: steps (one query per server each) and the bytes they moved
        co.notices = []
        cur.execute("SET client_min_messages = debug1")
        cur.execute(sharded_sql, (params,))
        cur.execute("RESET client_min_messages")
        for n in co.notices:
            if "steps to" in n:
                say("traffic", n.split(":", 1)[1].strip())
    if a.perf:
        import subprocess
        pids = []
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and os.readlink("/proc/%s/cwd" % pid) in dirs:
                    pids.append(pid)
            except OSError:
                pass
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-g", "-o", a.perf,
                                "-p", ",".join(pids)])
        time.sleep(1)
        cur.execute(sharded_sql, (params,))
        rec.send_signal(2)
        rec.wait()
    co.close()
    bench.done()


if __name__ == "__main__":
    main()

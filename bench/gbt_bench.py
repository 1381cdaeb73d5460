#!/usr/bin/python3
"""Gradient-boosted trees benchmark, scfrisk and xgboost side by side (issue 3).

    scripts/cluster.sh /usr/bin/python3 bench/gbt_bench.py [--rows N] [--test-rows M]

Data: N rows (default 1,000,000) x 20 standard normal features, 5% missing
values (NULL elements), binary label drawn from a logistic model with a
nonlinear signal; a second table of M rows (default 200,000) from the same
distribution is the held-out part.  Params for both: 100 rounds, max_depth
6, eta 0.1, max_bin 256, 2 threads (scfrisk.threads = 2, xgboost nthread 2).

Figures (one "name: value" line each; ratios are scfrisk / peer):
  train       SELECT scfrisk.xgb_train(f, y, params) FROM t (serial plan)
              vs xgboost.train(tree_method="hist") on the arrays already in
              memory (DMatrix construction included, and reported alone);
              the two alternate --repeat times (default 3): medians, spread
              and the ratio of medians (bench/benchlib.py)
  python path fetch the rows with psycopg2, build the arrays, train with
              xgboost, write the model back as bytea: what a user does today
  score       SELECT sum(scfrisk.xgb_predict(m, f)) FROM t (serial and with 2
              parallel workers) vs Booster.predict on the in-memory DMatrix,
              and vs the floor: SELECT sum(array_length(f, 1)) FROM t, a
              trivial built-in C function over the same float8[] column;
              alternating, medians of --repeat runs
The load average is printed before and after; above 0.5 per core the
figures are marked NOISY and the script exits 3 (do not record them).
  auc         held-out AUC of both models on the test table
  rss         peak RSS (VmHWM) of the training backend, and of a separate
              Python process that loads the arrays and trains xgboost
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import psycopg2
import xgboost as xgb
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench  # noqa: E402
from gbt_data import P, gen, load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1000000)
ap.add_argument("--test-rows", type=int, default=200000)
ap.add_argument("--rounds", type=int, default=100)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--skip-python-path", action="store_true")
ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each side (at least 3; medians)")
args = ap.parse_args()

PARAMS = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "max_bin": 256}
SF_PARAMS = dict(PARAMS, n_estimators=args.rounds, seed=1)
XGB_PARAMS = dict(PARAMS, tree_method="hist", nthread=args.threads, seed=1)


def say(name, value):
    print("%s: %s" % (name, value), flush=True)


def vmhwm(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def timed(cur, q, a=None):
    t0 = time.perf_counter()
    cur.execute(q, a)
    r = cur.fetchone()
    return time.perf_counter() - t0, r


def main():
    bench = Bench()
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    say("rows", args.rows)
    say("test_rows", args.test_rows)
    say("features", P)
    say("rounds", args.rounds)
    say("threads", args.threads)
    X, y = gen(args.rows, 1)
    Xt, yt = gen(args.test_rows, 2)
    t0 = time.perf_counter()
    load(cur, "gbt_bench", X, y)
    load(cur, "gbt_bench_test", Xt, yt)
    say("load_s", "%.1f" % (time.perf_counter() - t0))

    # ------------------------------------------------------------ training
    # scfrisk and xgboost alternate --repeat times (bench/benchlib.py)
    state = {"rss_sf": None, "before": None, "model": None, "bst": None, "dm": []}

    def train_sf():
        train = psycopg2.connect("")
        train.autocommit = True
        tcur = train.cursor()
        tcur.execute("SELECT pg_backend_pid()")
        pid = tcur.fetchone()[0]
        tcur.execute("SET max_parallel_workers_per_gather = 0")
        tcur.execute("SET scfrisk.threads = %s", (args.threads,))
        b0 = vmhwm(pid)
        t, (model,) = timed(tcur, "SELECT scfrisk.xgb_train(f, y, %s) FROM gbt_bench", (json.dumps(SF_PARAMS),))
        state["model"] = bytes(model)
        if state["rss_sf"] is None:
            state["rss_sf"], state["before"] = vmhwm(pid), b0
        train.close()
        return t

    def train_x():
        t0 = time.perf_counter()
        dm = xgb.DMatrix(X, label=y, missing=np.nan, nthread=args.threads)
        t1 = time.perf_counter()
        state["bst"] = xgb.train(XGB_PARAMS, dm, num_boost_round=args.rounds)
        t2 = time.perf_counter()
        state["dm"].append(t1 - t0)
        return t2 - t0

    times = bench.alternate({"scfrisk": train_sf, "xgboost": train_x}, args.repeat)
    bench.report("train", times, "scfrisk", "xgboost")
    say("train_xgboost_dmatrix_s", "%.2f median (inside the xgboost time)" % float(np.median(state["dm"])))
    model, bst = state["model"], state["bst"]
    rss_sf, before = state["rss_sf"], state["before"]
    t_sf = float(np.median(times["scfrisk"]))

    # peak RSS of xgboost in a process of its own, from arrays saved to disk
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "X.npy"), X)
        np.save(os.path.join(d, "y.npy"), y)
        code = ("import numpy as np, xgboost as xgb, resource, sys, json\n"
                "X = np.load(sys.argv[1]); y = np.load(sys.argv[2])\n"
                "b = xgb.train(json.loads(sys.argv[3]), xgb.DMatrix(X, label=y, missing=np.nan), %d)\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)\n" % args.rounds)
        out = subprocess.run([sys.executable, "-c", code, os.path.join(d, "X.npy"), os.path.join(d, "y.npy"),
                              json.dumps(XGB_PARAMS)], capture_output=True, text=True, check=True)
        rss_x = float(out.stdout.strip().splitlines()[-1])
    say("rss_backend_mb", "%.0f (before training %.0f)" % (rss_sf, before))
    say("rss_xgboost_process_mb", "%.0f (including its %.0f MB input arrays)" % (rss_x, X.nbytes / 2**20))

    # ------------------------------------------------------------ Python path
    if not args.skip_python_path:
        t0 = time.perf_counter()
        pc = psycopg2.connect("")
        c2 = pc.cursor()
        c2.execute("SELECT f, y FROM gbt_bench")
        rows = c2.fetchall()
        Xp = np.array([[np.nan if v is None else v for v in r[0]] for r in rows], dtype=float)
        yp = np.array([r[1] for r in rows])
        del rows
        b2 = xgb.train(XGB_PARAMS, xgb.DMatrix(Xp, label=yp, missing=np.nan), num_boost_round=args.rounds)
        c2.execute("CREATE TEMP TABLE m (model bytea)")
        c2.execute("INSERT INTO m VALUES (%s)", (psycopg2.Binary(bytes(b2.save_raw())),))
        pc.commit()
        pc.close()
        t_py = time.perf_counter() - t0
        say("python_path_s", "%.2f" % t_py)
        say("train_vs_python_path_ratio", "%.3f" % (t_sf / t_py))
        del Xp, yp

    # ------------------------------------------------------------ scoring
    cur.execute("DROP TABLE IF EXISTS gbt_bench_model")
    cur.execute("CREATE TABLE gbt_bench_model AS SELECT %s::bytea AS m", (psycopg2.Binary(model),))
    cur.execute("SET max_parallel_workers_per_gather = 0")
    par = psycopg2.connect("")
    par.autocommit = True
    pcur = par.cursor()
    pcur.execute("SET max_parallel_workers_per_gather = 2")
    pcur.execute("SET parallel_setup_cost = 0")
    pcur.execute("SET min_parallel_table_scan_size = 0")
    q = "SELECT sum(scfrisk.xgb_predict((SELECT m FROM gbt_bench_model), f)) FROM gbt_bench"
    timed(cur, q)  # warm the cache of the table pages

    def score_x():
        # Booster.predict caches its result per DMatrix: time the first call on a fresh one
        dpred = xgb.DMatrix(X, missing=np.nan, nthread=args.threads)
        t0 = time.perf_counter()
        bst.predict(dpred)
        return time.perf_counter() - t0

    times = bench.alternate({
        "scfrisk": lambda: timed(cur, q)[0],
        "xgboost": score_x,
        "floor": lambda: timed(cur, "SELECT sum(array_length(f, 1)) FROM gbt_bench")[0],
        "scfrisk_parallel": lambda: timed(pcur, q)[0],
    }, args.repeat)
    bench.report("score", times, "scfrisk", "xgboost")
    say("score_ratio_scfrisk_over_floor", "%.2f" % (np.median(times["scfrisk"]) / np.median(times["floor"])))
    say("score_ratio_parallel_over_xgboost",
        "%.2f" % (np.median(times["scfrisk_parallel"]) / np.median(times["xgboost"])))
    par.close()

    # ------------------------------------------------------------ accuracy
    cur.execute("SELECT y, scfrisk.xgb_predict(m, f) FROM gbt_bench_test, gbt_bench_model")
    rows = cur.fetchall()
    y_db = np.array([r[0] for r in rows])
    s_sf = np.array([r[1] for r in rows])
    s_x = bst.predict(xgb.DMatrix(Xt, missing=np.nan))
    a_sf = roc_auc_score(y_db, s_sf)
    a_x = roc_auc_score(yt, s_x)
    say("auc_scfrisk", "%.4f" % a_sf)
    say("auc_xgboost", "%.4f" % a_x)
    say("auc_difference", "%.4f" % (a_sf - a_x))
    cur.execute("DROP TABLE gbt_bench, gbt_bench_test, gbt_bench_model")
    bench.done()


if __name__ == "__main__":
    main()

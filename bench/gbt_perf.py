#!/usr/bin/python3
"""Where xgb_train's time goes: perf on the training backend (issue 19).

    scripts/cluster.sh /usr/bin/python3 bench/gbt_perf.py [--rows N] [--record FILE]

Loads the data of bench/gbt_bench.py (N rows, default 200,000, x 20 standard
normal features, 5% missing), then runs one serial
SELECT scfrisk.xgb_train(f, y, params) FROM t (100 rounds, max_depth 6,
eta 0.1, max_bin 256, scfrisk.threads 2) with perf attached to the backend:
`perf stat -e instructions,cycles` (counts barely move with the machine's
load, unlike wall times), and with --record FILE also `perf record -g` into
FILE (read it with `perf report -i FILE --no-children`).  Prints the md5 of
the model bytes, so two builds can be compared.  Needs perf and the rights to
attach to the backend (root).
"""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gbt_data import gen, load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=200000)
ap.add_argument("--rounds", type=int, default=100)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--record", default=None, help="perf record -g output file")
ap.add_argument("--keep", action="store_true", help="reuse the table gbt_perf when it exists")
args = ap.parse_args()

PARAMS = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "max_bin": 256,
          "n_estimators": args.rounds, "seed": 1}


def perf_around(pid, cmd, run):
    """Start perf attached to pid, run(), stop perf with SIGINT; perf's stderr."""
    p = subprocess.Popen(["perf"] + cmd + ["-p", str(pid)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # perf attached
    out = run()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=600)
    return out, err


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SELECT to_regclass('gbt_perf') IS NOT NULL")
    if not (args.keep and cur.fetchone()[0]):
        X, y = gen(args.rows, 1)
        load(cur, "gbt_perf", X, y)
    cur.execute("SELECT count(*) FROM gbt_perf")
    print("rows: %d" % cur.fetchone()[0])
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SET scfrisk.threads = %s", (args.threads,))
    # warm the table's pages and start the worker pool, so perf sees its threads
    small = dict(PARAMS, n_estimators=1)
    cur.execute("SELECT length(scfrisk.xgb_train(f, y, %s)) FROM gbt_perf", (json.dumps(small),))

    def train():
        cur.execute("SELECT scfrisk.xgb_train(f, y, %s) FROM gbt_perf", (json.dumps(PARAMS),))
        return hashlib.md5(bytes(cur.fetchone()[0])).hexdigest()

    md5, err = perf_around(pid, ["stat", "-e", "instructions,cycles"], train)
    print("model_md5: %s" % md5)
    print(err.strip())
    if args.record:
        md5b, err = perf_around(pid, ["record", "-g", "-F", "999", "-o", args.record], train)
        print("model_md5 (record run): %s" % md5b)
        print(err.strip())


main()

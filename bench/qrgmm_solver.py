#!/usr/bin/python3
"""Where Portnoy-Koenker preprocessing starts to pay: qrgmm_train with
"solver": "fn" (interior point on all rows) against "pfn" (preprocessing),
same data, same m, one run; the ratio pfn / fn decides the row count from
which "solver": "auto" preprocesses (QRGMM_PFN_MIN_ROWS in qrgmm.h).

Two shapes: p = 4 covariates of the section 8.2 segment law (m = 1000 where
the rows allow, else n / 12), and p = 20 standard normal covariates with a
heteroscedastic lognormal response (m = n / 80, at most 1000).

    scripts/cluster.sh /usr/bin/python3 bench/qrgmm_solver.py [--n 1000,2000,5000,15000]
"""
import argparse
import io
import os
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "pylib"))
from scf_segment import Law, covariates  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--n", default="1000,2000,5000,15000")
args = ap.parse_args()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET max_parallel_workers_per_gather = 0")


def data(shape, n):
    rng = np.random.default_rng([11, n])
    if shape == 4:
        X = covariates(rng, n)
        return X, Law(False).sample(rng, X), min(1000, n // 12)
    X = rng.standard_normal((n, 20))
    y = np.exp(1 + X @ rng.normal(0, 0.1, 20) + (0.3 + 0.05 * np.abs(X[:, 0])) * rng.standard_normal(n))
    return X, y, min(1000, n // 80)


print("%5s %7s %5s %9s %9s %7s" % ("p", "n", "m", "fn s", "pfn s", "ratio"))
for shape in (4, 20):
    for n in [int(v) for v in args.n.split(",")]:
        X, y, m = data(shape, n)
        cur.execute("DROP TABLE IF EXISTS solver_bench")
        cur.execute("CREATE TABLE solver_bench (x float8[], y float8)")
        cur.copy_expert("COPY solver_bench FROM STDIN", io.StringIO(
            "\n".join("{%s}\t%r" % (",".join(map(repr, X[i])), y[i]) for i in range(n))))
        secs = {}
        for solver in ("fn", "pfn"):
            t0 = time.time()
            cur.execute("SELECT length(scfrisk.qrgmm_train(x, y, %s)) FROM solver_bench",
                        ('{"m": %d, "solver": "%s"}' % (m, solver),))
            cur.fetchone()
            secs[solver] = time.time() - t0
        print("%5d %7d %5d %9.3f %9.3f %7.2f" % (shape, n, m, secs["fn"], secs["pfn"], secs["pfn"] / secs["fn"]),
              flush=True)

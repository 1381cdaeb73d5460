#!/usr/bin/python3
"""Benchmark of scfrisk.mlp_train / mlp_predict against scikit-learn (issue 4).

Same data, same run:
  train:   20 epochs over 200,000 x 20 rows, hidden [64, 32], batch 256,
           scfrisk.mlp_train vs MLPClassifier(max_iter=20) on the in-memory matrix
  predict: SELECT sum(scfrisk.mlp_predict(m, x)) over 1,000,000 rows vs
           predict_proba on the in-memory matrix, and vs the floor
           SELECT sum(x[1]) over the same table (scan + detoast of the arrays)

Each side runs alternately three times; medians, spreads and the ratio of
medians are printed (scfrisk / peer; <= 1.0 means scfrisk is faster), with
the load before and after: above 0.5 per core the figures are NOISY and the
script exits 3 (bench/benchlib.py).
Usage: /usr/bin/python3 bench/mlp_bench.py [train_rows] [predict_rows]
with PG* variables pointing at a server that has scfrisk installed.
"""
import io
import os
import sys
import time
import warnings

import numpy as np
import psycopg2
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, say  # noqa: E402

N_TRAIN = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
N_PRED = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
D = 20


def make(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D))
    z = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3] + 0.2 * rng.normal(size=n)
    y = (z > 0.3).astype(float)
    return X, y


def load(cur, name, X, y):
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (x float8[], y float8)" % name)
    buf = io.StringIO()
    for i in range(len(y)):
        buf.write("{" + ",".join("%.17g" % v for v in X[i]) + "}\t%g\n" % y[i])
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


def timed(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def main():
    bench = Bench()
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SHOW scfrisk.threads")
    say("scfrisk_threads", cur.fetchone()[0])
    say("train_rows", N_TRAIN)
    say("predict_rows", N_PRED)

    X, y = make(N_TRAIN, 1)
    load(cur, "bench_mlp_train", X, y)
    # the same work on both sides: 20 epochs of the same network
    # (0.2.0's defaults stop early, decay weights and add a linear skip: all off here)
    params = ('{"hidden": [64, 32], "epochs": 20, "batch_size": 256, "learning_rate": 0.001, "seed": 1, '
              '"early_stopping_rounds": 0, "weight_decay": 0, "linear_skip": false, "refit": false}')

    def ours_train():
        cur.execute("DROP TABLE IF EXISTS bench_mlp_model")
        cur.execute("CREATE TABLE bench_mlp_model AS SELECT scfrisk.mlp_train(x, y, %s::jsonb) AS m "
                    "FROM bench_mlp_train", (params,))

    # the peer gets the standardised matrix for free (ours standardises inside)
    Xs = (X - X.mean(0)) / X.std(0)
    peer = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=256, max_iter=20, learning_rate_init=0.001,
                         alpha=0.0, tol=0, n_iter_no_change=1000, random_state=1, shuffle=True)

    def peer_train():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer.fit(Xs, y)

    times = bench.alternate({"scfrisk": ours_train, "sklearn": peer_train})
    bench.report("train", times, "scfrisk", "sklearn")
    cur.execute("SELECT avg(((scfrisk.mlp_predict(m, x) >= 0.5)::int = y::int)::int) "
                "FROM bench_mlp_train, bench_mlp_model")
    acc_ours = cur.fetchone()[0]
    acc_peer = float(np.mean((peer.predict_proba(Xs)[:, 1] >= 0.5) == y))
    say("train_accuracy", "scfrisk %.4f, sklearn %.4f" % (acc_ours, acc_peer))

    Xp, yp = make(N_PRED, 2)
    load(cur, "bench_mlp_pred", Xp, yp)
    cur.execute("SELECT sum(x[1]) FROM bench_mlp_pred")  # warm the cache
    Xps = (Xp - X.mean(0)) / X.std(0)
    times = bench.alternate({
        "scfrisk": lambda: cur.execute("SELECT sum(scfrisk.mlp_predict(m, x)) FROM bench_mlp_pred, bench_mlp_model"),
        "sklearn": lambda: peer.predict_proba(Xps),
        "floor": lambda: cur.execute("SELECT sum(x[1]) FROM bench_mlp_pred"),
    })
    bench.report("predict", times, "scfrisk", "sklearn")
    say("predict_ratio_scfrisk_over_floor", "%.2f" % (np.median(times["scfrisk"]) / np.median(times["floor"])))
    cur.execute("DROP TABLE bench_mlp_train, bench_mlp_pred, bench_mlp_model")
    bench.done()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Benchmark of scfrisk.mlp_train / mlp_predict against scikit-learn (issue 4).

Same data, same run:
  train:   20 epochs over 200,000 x 20 rows, hidden [64, 32], batch 256,
           scfrisk.mlp_train vs MLPClassifier(max_iter=20) on the in-memory matrix
  predict: SELECT sum(scfrisk.mlp_predict(m, x)) over 1,000,000 rows vs
           predict_proba on the in-memory matrix, and vs the floor
           SELECT sum(x[1]) over the same table (scan + detoast of the arrays)

Prints seconds and ratios (scfrisk / peer; <= 1.0 means scfrisk is faster).
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
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SHOW scfrisk.threads")
    threads = cur.fetchone()[0]
    print("# cores: %d, scfrisk.threads = %s, machine shared with other jobs" % (os.cpu_count(), threads))

    X, y = make(N_TRAIN, 1)
    load(cur, "bench_mlp_train", X, y)
    params = '{"hidden": [64, 32], "epochs": 20, "batch_size": 256, "learning_rate": 0.001, "seed": 1}'

    def ours_train():
        cur.execute("DROP TABLE IF EXISTS bench_mlp_model")
        cur.execute("CREATE TABLE bench_mlp_model AS SELECT scfrisk.mlp_train(x, y, %s::jsonb) AS m "
                    "FROM bench_mlp_train", (params,))
    t_ours, _ = timed(ours_train)
    # the peer gets the standardised matrix for free (ours standardises inside)
    Xs = (X - X.mean(0)) / X.std(0)
    peer = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=256, max_iter=20, learning_rate_init=0.001,
                         alpha=0.0, tol=0, n_iter_no_change=1000, random_state=1, shuffle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_peer, _ = timed(lambda: peer.fit(Xs, y))
    print("train %d x %d, 20 epochs, [64, 32], batch 256: scfrisk %.2f s (incl. scan), sklearn %.2f s, ratio %.2f"
          % (N_TRAIN, D, t_ours, t_peer, t_ours / t_peer))
    cur.execute("SELECT avg(((scfrisk.mlp_predict(m, x) >= 0.5)::int = y::int)::int) FROM bench_mlp_train, bench_mlp_model")
    acc_ours = cur.fetchone()[0]
    acc_peer = float(np.mean((peer.predict_proba(Xs)[:, 1] >= 0.5) == y))
    print("# training accuracy: scfrisk %.4f, sklearn %.4f" % (acc_ours, acc_peer))

    Xp, yp = make(N_PRED, 2)
    load(cur, "bench_mlp_pred", Xp, yp)
    cur.execute("SELECT sum(x[1]) FROM bench_mlp_pred")  # warm the cache
    t_floor, _ = timed(lambda: cur.execute("SELECT sum(x[1]) FROM bench_mlp_pred"))
    t_pred, _ = timed(lambda: cur.execute("SELECT sum(scfrisk.mlp_predict(m, x)) FROM bench_mlp_pred, bench_mlp_model"))
    Xps = (Xp - X.mean(0)) / X.std(0)
    t_ppeer, _ = timed(lambda: peer.predict_proba(Xps))
    print("predict %d rows: scfrisk %.2f s, sklearn predict_proba %.2f s (in memory), ratio %.2f; "
          "floor sum(x[1]) %.2f s, scfrisk / floor %.2f"
          % (N_PRED, t_pred, t_ppeer, t_pred / t_ppeer, t_floor, t_pred / t_floor))
    cur.execute("DROP TABLE bench_mlp_train, bench_mlp_pred, bench_mlp_model")


if __name__ == "__main__":
    main()

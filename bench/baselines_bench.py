#!/usr/bin/python3
"""The paper's baselines, scfrisk and scikit-learn side by side (issue 15).

    scripts/cluster.sh /usr/bin/python3 bench/baselines_bench.py [--rows N] [--test-rows M]

Not run by the test suite: run it on a quiet machine and copy the figures
into docs/benchmarks.md.

Data: N rows (default 100,000) x 20 standard normal features (no missing
values: naive Bayes, the SVM and k-NN take none), binary label from a
logistic model with a nonlinear signal; a second table of M rows (default
20,000) is the held-out part.  Each kind with the same parameters on both
sides, 2 threads where the peer has them (scfrisk.threads = 2, n_jobs 2):

  cart    tree_train {"max_depth": 8}            DecisionTreeClassifier(max_depth=8)
  forest  rf_train {"n_estimators": 100, "min_samples_leaf": 2}
                                                 RandomForestClassifier(100, min_samples_leaf=2, n_jobs=2)
  nb      nb_train {}                            GaussianNB()
  svm     svm_train {"C": 0.1, "platt_folds": 0} LinearSVC(C=0.1) (decision values; scfrisk also
                                                 fits Platt's sigmoid on them)
  knn     knn_train {"k": 15} on --knn-rows rows (default 20,000)
                                                 StandardScaler + KNeighborsClassifier(15, brute, n_jobs=2)

Figures (one "name: value" line each; ratios are scfrisk / peer):
  <kind> train   SELECT scfrisk.<kind>_train(f, y, params) FROM t (serial plan)
                 vs the estimator's fit on arrays already in memory; best of
                 --repeat alternating runs of each side
  <kind> score   SELECT sum(scfrisk.predict(m, f)) FROM test (serial plan) vs
                 predict_proba on the in-memory test array
  <kind> auc     held-out AUC of both models
"""
import argparse
import io
import json
import time

import numpy as np
import psycopg2
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=100000)
ap.add_argument("--test-rows", type=int, default=20000)
ap.add_argument("--knn-rows", type=int, default=20000)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeat", type=int, default=2, help="alternating runs of each side (best kept)")
args = ap.parse_args()

P = 20


def say(name, value):
    print("%s: %s" % (name, value), flush=True)


def gen(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P))
    z = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + np.abs(X[:, 3]) - 0.8 + 0.5 * X[:, 4]
         - 0.3 * X[:, 5] ** 2 + 0.6 * X[:, 6] * (X[:, 7] > 0) + 0.2 * X[:, 8])
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return X, y


def load(cur, name, X, y):
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE UNLOGGED TABLE %s (id int, f float8[], y float8)" % name)
    step = 50000
    for a in range(0, len(y), step):
        buf = io.StringIO()
        for i in range(a, min(a + step, len(y))):
            buf.write("%d\t{%s}\t%d\n" % (i, ",".join("%.17g" % v for v in X[i]), y[i]))
        buf.seek(0)
        cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, r


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SET scfrisk.threads = %d" % args.threads)
    cur.execute("SET max_parallel_workers_per_gather = 0")
    X, y = gen(args.rows, 1)
    Xt, yt = gen(args.test_rows, 2)
    load(cur, "bl_train", X, y)
    load(cur, "bl_test", Xt, yt)
    kinds = [
        ("cart", "tree_train", {"max_depth": 8}, lambda: DecisionTreeClassifier(max_depth=8, random_state=0), None),
        ("forest", "rf_train", {"n_estimators": 100, "min_samples_leaf": 2},
         lambda: RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=args.threads,
                                        random_state=0), None),
        ("nb", "nb_train", {}, lambda: GaussianNB(), None),
        ("svm", "svm_train", {"C": 0.1, "platt_folds": 0}, lambda: LinearSVC(C=0.1, random_state=0), None),
        ("knn", "knn_train", {"k": 15},
         lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15, algorithm="brute",
                                                                      n_jobs=args.threads)),
         args.knn_rows),
    ]
    for name, agg, params, est, rows in kinds:
        where = "id < %d" % rows if rows else "true"
        Xs, ys = (X[:rows], y[:rows]) if rows else (X, y)
        best_sf, best_sk, model, peer = float("inf"), float("inf"), None, None
        for _ in range(args.repeat):
            t, r = timed(lambda: cur.execute("SELECT scfrisk.%s(f, y, %%s) FROM bl_train WHERE %s"
                                             % (agg, where), (json.dumps(params),)) or cur.fetchone()[0])
            best_sf, model = min(best_sf, t), bytes(r)
            t, peer = timed(lambda: est().fit(Xs, ys))
            best_sk = min(best_sk, t)
        say("%s train scfrisk s" % name, "%.3f" % best_sf)
        say("%s train sklearn s" % name, "%.3f" % best_sk)
        say("%s train ratio" % name, "%.2f" % (best_sf / best_sk))
        t_sf, _ = timed(lambda: cur.execute("SELECT sum(scfrisk.predict(%s, f)) FROM bl_test", (model,))
                        or cur.fetchone())
        if name == "svm":
            t_sk, _ = timed(lambda: peer.decision_function(Xt))
        else:
            t_sk, _ = timed(lambda: peer.predict_proba(Xt))
        say("%s score scfrisk s" % name, "%.3f" % t_sf)
        say("%s score sklearn s" % name, "%.3f" % t_sk)
        cur.execute("SELECT scfrisk.predict(%s, f) FROM bl_test ORDER BY id", (model,))
        ours = np.array([r[0] for r in cur.fetchall()])
        theirs = peer.decision_function(Xt) if name == "svm" else peer.predict_proba(Xt)[:, 1]
        say("%s auc scfrisk" % name, "%.4f" % roc_auc_score(yt, ours))
        say("%s auc sklearn" % name, "%.4f" % roc_auc_score(yt, theirs))


if __name__ == "__main__":
    main()

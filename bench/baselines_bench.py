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

Figures (one "name: value" line each; ratios are scfrisk / peer), with the
discipline of bench/benchlib.py: the two sides alternate --repeat times (at
least 3), medians with their spread and the ratio of medians; the load per
core is printed before and after, and above 0.5 the run is NOISY (exit 3:
do not record it):
  <kind>_train   SELECT scfrisk.<kind>_train(f, y, params) FROM t (serial plan)
                 vs the estimator's fit on arrays already in memory
  <kind>_score   SELECT sum(scfrisk.predict(m, f)) FROM test (serial plan) vs
                 predict_proba (LinearSVC: decision_function) on the in-memory
                 test array
  <kind> auc     held-out AUC of both models
  forest_cpu     user+sys CPU seconds of the training backend (its
                 /proc/<pid>/stat, so load from elsewhere does not count) and
                 of the scikit-learn fit (resource.getrusage of this process)
                 for rf_train: issue 15 asks for rf_train's training time at
                 most scikit-learn's with the same threads
"""
import argparse
import json
import os
import resource
import sys

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, say  # noqa: E402
from gbt_data import gen, load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=100000)
ap.add_argument("--test-rows", type=int, default=20000)
ap.add_argument("--knn-rows", type=int, default=20000)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each side (at least 3; medians)")
ap.add_argument("--kinds", default="cart,forest,nb,svm,knn", help="comma-separated subset")
args = ap.parse_args()


def backend_cpu(cur):
    """user+sys CPU seconds of this connection's backend so far (Linux /proc)."""
    cur.execute("SELECT pg_backend_pid()")
    with open("/proc/%d/stat" % cur.fetchone()[0]) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SET scfrisk.threads = %d" % args.threads)
    cur.execute("SET max_parallel_workers_per_gather = 0")
    X, y = gen(args.rows, 1, missing=0)
    Xt, yt = gen(args.test_rows, 2, missing=0)
    load(cur, "bl_train", X, y, ids=True, vacuum=False)
    load(cur, "bl_test", Xt, yt, ids=True, vacuum=False)
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
    b = Bench()
    wanted = set(args.kinds.split(","))
    for name, agg, params, est, rows in kinds:
        if name not in wanted:
            continue
        where = "id < %d" % rows if rows else "true"
        Xs, ys = (X[:rows], y[:rows]) if rows else (X, y)
        out = {}
        cpu = {"scfrisk": [], "sklearn": []}

        def train_sf():
            c0 = backend_cpu(cur)
            cur.execute("SELECT scfrisk.%s(f, y, %%s) FROM bl_train WHERE %s" % (agg, where),
                        (json.dumps(params),))
            out["model"] = bytes(cur.fetchone()[0])
            cpu["scfrisk"].append(backend_cpu(cur) - c0)

        def train_sk():
            c0 = self_cpu()
            out["peer"] = est().fit(Xs, ys)
            cpu["sklearn"].append(self_cpu() - c0)

        b.report("%s_train" % name, b.alternate({"scfrisk": train_sf, "sklearn": train_sk}, args.repeat),
                 "scfrisk", "sklearn")
        if name == "forest":
            b.report("forest_cpu", cpu, "scfrisk", "sklearn")
        model, peer = out["model"], out["peer"]
        proba = peer.decision_function if name == "svm" else peer.predict_proba
        b.report("%s_score" % name, b.alternate({
            "scfrisk": lambda: cur.execute("SELECT sum(scfrisk.predict(%s, f)) FROM bl_test", (model,))
            or cur.fetchone(),
            "sklearn": lambda: proba(Xt)}, args.repeat), "scfrisk", "sklearn")
        cur.execute("SELECT scfrisk.predict(%s, f) FROM bl_test ORDER BY id", (model,))
        ours = np.array([r[0] for r in cur.fetchall()])
        theirs = peer.decision_function(Xt) if name == "svm" else peer.predict_proba(Xt)[:, 1]
        say("%s auc scfrisk" % name, "%.4f" % roc_auc_score(yt, ours))
        say("%s auc sklearn" % name, "%.4f" % roc_auc_score(yt, theirs))
    b.done()

if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Monotone constraints of rf_train and tree_train (issue 17, item 4).

XGBoost's semantics (as xgb_train, test_gbt_monotone.py): a node's value is
clipped to bounds, a split on a constrained feature must order its children's
values, and the children's bounds meet at their mean.  Checked here:

- monotonicity: on 2,000 random pairs of rows that differ in one constrained
  feature only (continuous features with 5% missing values), the score of the
  constrained forest and of the constrained tree moves in the constrained
  direction or not at all (0 violations); the unconstrained models break it on
  the same pairs (so the check can fail)
- German credit (duration and amount constrained up): 0 violations, and the
  5-fold out-of-fold AUC of the constrained forest is printed beside the
  unconstrained one's (a constraint costs what it costs: no bound is asserted
  but that the constrained AUC stays above 0.6, far from chance)
- a shorter list means 0 for the rest, an all-zero list changes nothing for a
  forest (no split is refused and no value clipped: same bytes but the params)

Prints TAP; exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np
import psycopg2
from sklearn.metrics import roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "pylib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sftap import Tap  # noqa: E402
from test_gbt_monotone import load, pairs, violations, arr  # noqa: E402  (same pairs as xgb_train's test)

t = Tap()


def train(cur, agg, table, p, where="true"):
    cur.execute("SELECT scfrisk.%s(features, label, %%s) FROM %s WHERE %s" % (agg, table, where),
                (json.dumps(p),))
    return bytes(cur.fetchone()[0])



def score_rows(cur, model, X):
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS fm_rows (i int, f float8[])")
    cur.execute("TRUNCATE fm_rows")
    from psycopg2.extras import execute_values
    execute_values(cur, "INSERT INTO fm_rows VALUES %s", [(i, arr(X[i])) for i in range(len(X))],
                   page_size=2000)
    cur.execute("SELECT scfrisk.predict(%s, f) FROM fm_rows ORDER BY i", (model,))
    return np.array([r[0] for r in cur.fetchall()])


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    rng = np.random.default_rng(29)

    n = 4000
    X = rng.normal(size=(n, 6))
    z = np.sin(3 * X[:, 0]) + X[:, 0] - 1.5 * np.cos(2 * X[:, 1]) - X[:, 1] + X[:, 2] * X[:, 3] + rng.normal(0, 0.5, n)
    X[rng.random((n, 6)) < 0.05] = np.nan
    y = (z > 0).astype(float)
    load(cur, "fmono_cont", X, y)
    cons = [1, -1, 0, 0, 0, 0]
    a, b, which = pairs(rng, X, cons, 2000)
    for agg, p in (("rf_train", {"n_estimators": 50, "min_samples_leaf": 2, "seed": 3}),
                   ("tree_train", {"max_depth": 8})):
        m_cons = train(cur, agg, "fmono_cont", dict(p, monotone_constraints=cons))
        m_free = train(cur, agg, "fmono_cont", p)
        v_cons = violations(score_rows(cur, m_cons, a), score_rows(cur, m_cons, b), which, cons)
        v_free = violations(score_rows(cur, m_free, a), score_rows(cur, m_free, b), which, cons)
        t.ok(v_cons == 0, "%s: 2,000 random pairs differing in one constrained feature: no violation (%d)"
             % (agg, v_cons))
        t.ok(v_free > 0, "%s: the same pairs on the unconstrained model: %d violations (the check can fail)"
             % (agg, v_free))
    # a shorter list: the first feature only
    m = train(cur, "rf_train", "fmono_cont", {"n_estimators": 30, "seed": 3, "monotone_constraints": [1]})
    v = violations(score_rows(cur, m, a), score_rows(cur, m, b), which, [1, 0, 0, 0, 0, 0])
    t.ok(v == 0, "rf_train, constraints for the first feature only: no violation on it (%d)" % v)
    # all zeros: every split is allowed and no value clipped, so the scores are the free forest's
    p = {"n_estimators": 20, "seed": 5}
    d = float(np.max(np.abs(score_rows(cur, train(cur, "rf_train", "fmono_cont", p), X[:500])
                            - score_rows(cur, train(cur, "rf_train", "fmono_cont",
                                                    dict(p, monotone_constraints=[0] * 6)), X[:500]))))
    t.ok(d == 0.0, "rf_train, all-zero constraints: the unconstrained forest's scores (max diff %g)" % d)

    # German credit: duration (feature 1) and amount (feature 4) constrained up
    subprocess.run([os.path.join(ROOT, "scripts", "load_german_credit.sh")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    cur.execute("SELECT id, features, label FROM german_credit ORDER BY id")
    rows = cur.fetchall()
    ids = np.array([r[0] for r in rows])
    GX = np.array([r[1] for r in rows], dtype=float)
    Gy = np.array([r[2] for r in rows], dtype=float)
    gcons = [0] * GX.shape[1]
    gcons[1] = 1
    gcons[4] = 1
    rp = {"n_estimators": 200, "min_samples_leaf": 2, "seed": 1}
    m = train(cur, "rf_train", "german_credit", dict(rp, monotone_constraints=gcons))
    a, b, which = pairs(rng, GX, gcons, 2000)
    v = violations(score_rows(cur, m, a), score_rows(cur, m, b), which, gcons)
    t.ok(v == 0, "German credit forest, duration and amount constrained up: no violation in 2,000 pairs (%d)" % v)
    fold = ids % 5
    oof = {"free": np.zeros(len(Gy)), "constrained": np.zeros(len(Gy))}
    for k in range(5):
        for name, q in (("free", rp), ("constrained", dict(rp, monotone_constraints=gcons))):
            mk = train(cur, "rf_train", "german_credit", q, "mod(id, 5) <> %d" % k)
            oof[name][fold == k] = score_rows(cur, mk, GX[fold == k])
    auc_free = roc_auc_score(Gy, oof["free"])
    auc_cons = roc_auc_score(Gy, oof["constrained"])
    print("# German credit 5-fold OOF AUC of rf_train (200 trees, min_samples_leaf 2): "
          "unconstrained %.4f, duration and amount constrained up %.4f" % (auc_free, auc_cons))
    t.ok(auc_cons > 0.6, "German credit: the constrained forest's OOF AUC %.4f (unconstrained %.4f)"
         % (auc_cons, auc_free))
    t.done()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
""""calibrate" as a training parameter against scikit-learn (issue 17, item 6).

A trainer with "calibrate": "platt" | "isotonic" fits the map on out-of-fold
scores (calibrate_folds folds, a row's fold scfrisk.row_fold(features, label,
folds), seed 0) and keeps the model trained on every row, as scikit-learn's
CalibratedClassifierCV(ensemble=False) with those folds passed as cv.  Both
calibrate the margin: the peer's estimator has a decision_function that is
the logit of its probability, clipped to +-40 as scfrisk clips a probability
of 0 or 1.

- nb_train (equal to GaussianNB within 1e-9, test_baselines.py) against
  CalibratedClassifierCV(GaussianNB, cv=the same folds, ensemble=False): the
  calibrated probabilities agree within 1e-6 for Platt (scikit-learn stops
  BFGS at its gradient tolerance, scfrisk's Newton goes to the optimum, as
  test_governance.py) and 1e-9 for isotonic (the same exact algorithm)
- rf_train, tree_train, xgb_train, logreg_train, mlp_train, svm_train,
  xgb_mlp_train: the stored map is the one
  scikit-learn's calibrators (_SigmoidCalibration, IsotonicRegression) fit on
  the out-of-fold scores computed here in SQL (each fold's model trained by
  the aggregate on the other folds' rows), applied to the full model's score:
  within the same tolerances; and it differs from a map fitted on the
  training rows' own in-sample scores (the bias the out-of-fold fit avoids)
- calibrate_folds 3 gives another map than 5 (the folds are used)

Prints TAP; exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np
import psycopg2
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.isotonic import IsotonicRegression
from sklearn.naive_bayes import GaussianNB

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "pylib"))
from sftap import Tap  # noqa: E402

t = Tap()
TOL = {"platt": 1e-6, "isotonic": 1e-9}


def margin(p):
    with np.errstate(divide="ignore"):
        return np.clip(np.log(p) - np.log1p(-p), -40.0, 40.0)


class MarginNB(GaussianNB):
    """GaussianNB whose decision_function is the clipped logit of its probability."""

    def decision_function(self, X):
        return margin(self.predict_proba(X)[:, 1])


def train(cur, agg, params, where="true"):
    cur.execute("SELECT scfrisk.%s(features, label, %%s) FROM german_credit WHERE %s" % (agg, where),
                (json.dumps(params),))
    return bytes(cur.fetchone()[0])


def scores(cur, model, where="true"):
    cur.execute("SELECT scfrisk.predict(%%s, features) FROM german_credit WHERE %s ORDER BY id" % where,
                (model,))
    return np.array([r[0] for r in cur.fetchall()])


def sk_map(method, f, y):
    """scikit-learn's calibrator of CalibratedClassifierCV fitted on margins f."""
    if method == "platt":
        c = _SigmoidCalibration().fit(f, y)
    else:
        c = IsotonicRegression(out_of_bounds="clip").fit(f, y)
    return c


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    subprocess.run([os.path.join(ROOT, "scripts", "load_german_credit.sh")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    cur.execute("SELECT features, label, scfrisk.row_fold(features, label, 5), "
                "scfrisk.row_fold(features, label, 3) FROM german_credit ORDER BY id")
    rows = cur.fetchall()
    X = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    fold5 = np.array([r[2] for r in rows])
    t.ok(set(fold5) == set(range(5)), "German credit: every one of the 5 folds holds rows")
    cv = [(np.where(fold5 != k)[0], np.where(fold5 == k)[0]) for k in range(5)]

    # ------------------------------------------------------------ nb_train vs CalibratedClassifierCV
    for method, sk_method in (("platt", "sigmoid"), ("isotonic", "isotonic")):
        m = train(cur, "nb_train", {"calibrate": method})
        sk = CalibratedClassifierCV(MarginNB(), method=sk_method, cv=cv, ensemble=False).fit(X, y)
        d = float(np.max(np.abs(scores(cur, m) - sk.predict_proba(X)[:, 1])))
        t.ok(d < TOL[method], "nb_train calibrate %s: predict equals CalibratedClassifierCV(GaussianNB, "
             "the same 5 folds, ensemble=False) (max diff %.3g, tol %g)" % (method, d, TOL[method]))

    # ------------------------------------------------------------ the map is fitted out of fold
    kinds = (("rf_train", {"n_estimators": 50, "min_samples_leaf": 2, "seed": 2}),
             ("tree_train", {"max_depth": 4}),
             ("xgb_train", {"n_estimators": 40, "max_depth": 3, "eta": 0.2}),
             ("logreg_train", {"C": 1.0}),
             ("mlp_train", {"hidden": [8], "epochs": 20, "seed": 3}),
             ("svm_train", {"C": 0.1, "max_iter": 5000}),
             ("xgb_mlp_train", {"xgb": {"n_estimators": 20, "max_depth": 3},
                                "mlp": {"hidden": [8], "epochs": 10, "seed": 3}}))
    for agg, params in kinds:
        oof = np.empty(len(y))
        for k in range(5):
            mk = train(cur, agg, params, "scfrisk.row_fold(features, label, 5) <> %d" % k)
            oof[fold5 == k] = scores(cur, mk)[fold5 == k]
        raw = scores(cur, train(cur, agg, params))
        for method in ("platt", "isotonic"):
            cal = scores(cur, train(cur, agg, dict(params, calibrate=method)))
            ref = sk_map(method, margin(oof), y)
            want = ref.predict(margin(raw))
            d = float(np.max(np.abs(cal - want)))
            t.ok(d < TOL[method], "%s calibrate %s: the map scikit-learn fits on the out-of-fold scores "
                 "(max diff %.3g, tol %g)" % (agg, method, d, TOL[method]))
            insample = sk_map(method, margin(raw), y).predict(margin(raw))
            gap = float(np.max(np.abs(cal - insample)))
            t.ok(gap > 1e-3, "%s calibrate %s: not the in-sample map (max diff %.3g from it)"
                 % (agg, method, gap))

    # ------------------------------------------------------------ the folds are used
    a = scores(cur, train(cur, "rf_train", {"n_estimators": 30, "seed": 4, "calibrate": "isotonic"}))
    b = scores(cur, train(cur, "rf_train", {"n_estimators": 30, "seed": 4, "calibrate": "isotonic",
                                            "calibrate_folds": 3}))
    t.ok(float(np.max(np.abs(a - b))) > 1e-6, "calibrate_folds 3 gives another map than 5")
    t.done()


if __name__ == "__main__":
    main()

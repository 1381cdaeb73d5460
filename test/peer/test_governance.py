#!/usr/bin/python3
"""Drift and calibration against numpy and scikit-learn (issue 17, items 5-6).

- the training score distribution stored by xgb_train: its edges are the
  distinct order statistics at k/10 of the training margins and its shares
  the counts numpy's searchsorted gives on those edges (1e-12)
- psi(model, score) on a shifted live sample equals numpy's PSI on the same
  bins, bin by bin and in total, within 1e-9; on the training rows it is 0
- csi(model, features) with missing values equals numpy's per feature within 1e-9
- every classifier (gbt, logreg, mlp, xgb_mlp) stores the distribution, and
  the PSI of its own training rows is 0
- calibration_table equals sklearn.calibration.calibration_curve (uniform
  bins) on the non-empty bins, and its ECE the weighted gap, within 1e-12
- calibrate 'platt' and 'isotonic' give the probabilities of
  CalibratedClassifierCV(cv="prefit") on the same margins (a prefit
  estimator whose decision_function is the margin): Platt within 1e-6
  (scikit-learn stops BFGS at its gradient tolerance, Newton goes to the
  optimum), isotonic within 1e-9; scfrisk.predict applies the stored map
  and calibrated_score equals it

Prints TAP; exits non-zero on any failure.
"""
import json
import os
import sys

import numpy as np
import psycopg2
from psycopg2.extras import execute_values
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV, calibration_curve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "pylib"))
from sftap import Tap  # noqa: E402

t = Tap()
FLOOR = 1e-4  # SF_PSI_FLOOR


def arr(v):
    return [None if np.isnan(a) else float(a) for a in v]


def load(cur, table, X, y):
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute("CREATE TABLE %s (id int, features float8[], label float8)" % table)
    execute_values(cur, "INSERT INTO %s VALUES %%s" % table,
                   [(i, arr(X[i]), float(y[i])) for i in range(len(y))], page_size=2000)


def logit(p):
    return np.log(p) - np.log1p(-p)


def np_psi(edges, exp_share, exp_missing, values):
    """PSI of values (NaN = missing) against the stored bins, as docs/governance.md defines it."""
    n = len(values)
    present = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(exp_share))
    act = np.append(counts, n - len(present)) / n
    exp = np.append(exp_share, exp_missing)
    terms = np.zeros(len(act))
    on = (act > 0) | (exp > 0)
    a = np.maximum(act[on], FLOOR)
    e = np.maximum(exp[on], FLOOR)
    terms[on] = (a - e) * np.log(a / e)
    return terms.sum(), act, terms


def decile_edges(v):
    s = np.sort(v[~np.isnan(v)])
    m = len(s)
    out = []
    for k in range(1, 10):
        e = s[int(k * m / 10)]
        if np.isfinite(e) and e > s[0] and (not out or e > out[-1]):
            out.append(e)
    return np.array(out)


def scalar(cur, model, row):
    cur.execute("SELECT scfrisk.predict(%s, %s::float8[])", (model, [float(v) for v in row]))
    return cur.fetchone()[0]


def tree_thresholds(cur, model, p):
    """Distinct split thresholds per feature of an xgb_train model, read from its XGBoost JSON."""
    cur.execute("SELECT scfrisk.xgb_to_json(%s)", (model,))
    js = cur.fetchone()[0]
    js = json.loads(js) if isinstance(js, str) else js
    out = [set() for _ in range(p)]
    for tr in js["learner"]["gradient_booster"]["model"]["trees"]:
        for k, left in enumerate(tr["left_children"]):
            if left >= 0:
                out[tr["split_indices"][k]].add(float(np.float32(tr["split_conditions"][k])))
    return [np.array(sorted(v)) for v in out]


class Prefit(ClassifierMixin, BaseEstimator):
    """A fitted 'classifier' whose decision function is its one input column: the margin."""

    def fit(self, X, y):
        self.classes_ = np.array([0.0, 1.0])
        return self

    def decision_function(self, X):
        return np.asarray(X)[:, 0]


def scores(cur, model, table, fn="predict"):
    cur.execute("SELECT scfrisk.%s(%%s, features) FROM %s ORDER BY id" % (fn, table), (model,))
    return np.array([r[0] for r in cur.fetchall()], dtype=float)


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    rng = np.random.default_rng(2017)

    # ------------------------------------------------------------ data: training and a shifted live sample
    n = 4000
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 5, n)          # a feature with ties
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 3] + rng.logistic(size=n) > 0.5).astype(float)
    X[rng.random((n, 4)) < 0.05] = np.nan
    load(cur, "gov_train", X, y)
    L = rng.normal(size=(1500, 4)) + np.array([0.4, 0.0, -0.3, 0.0])
    L[:, 3] = rng.integers(0, 7, 1500)
    L[rng.random((1500, 4)) < 0.12] = np.nan
    load(cur, "gov_live", L, np.zeros(1500))

    p = {"objective": "binary:logistic", "n_estimators": 40, "max_depth": 3, "eta": 0.2}
    cur.execute("SELECT scfrisk.xgb_train(features, label, %s) FROM gov_train", (json.dumps(p),))
    model = bytes(cur.fetchone()[0])
    cur.execute("SELECT scfrisk.model_governance(%s)", (model,))
    gov = cur.fetchone()[0]
    d = gov["drift"]
    t.ok(d is not None and d["scale"] == "logit" and d["rows"] == n, "xgb_train stores the training distribution")

    # the stored bins are the deciles of the training margins, counted as numpy counts
    m_train = logit(scores(cur, model, "gov_train"))
    edges = np.array(d["score"]["edges"])
    ref_edges = decile_edges(m_train)
    t.ok(len(edges) == len(ref_edges) and np.array_equal(edges, ref_edges),
         "score edges are the distinct order statistics at k/10 of the training margins (%d edges)" % len(edges))
    cnt = np.bincount(np.searchsorted(edges, m_train, side="right"), minlength=len(edges) + 1) / n
    dd = float(np.max(np.abs(cnt - np.array(d["score"]["shares"]))))
    t.ok(dd < 1e-12, "score shares equal numpy's counts on those edges (max diff %.3g)" % dd)

    # PSI of live scores vs numpy on the same bins
    m_live = logit(scores(cur, model, "gov_live"))
    cur.execute("SELECT scfrisk.psi(%s, scfrisk.predict(%s, features)) FROM gov_live", (model, model))
    psi = cur.fetchone()[0]
    ref, act, terms = np_psi(edges, np.array(d["score"]["shares"]), d["score"]["missing"], m_live)
    t.ok(abs(psi["psi"] - ref) < 1e-9, "psi on a shifted sample equals numpy's (%.12g vs %.12g)" % (psi["psi"], ref))
    sb = psi["bins"]
    bd = max(max(abs(b["actual"] - act[i]), abs(b["contribution"] - terms[i])) for i, b in enumerate(sb))
    t.ok(len(sb) == len(edges) + 1 and bd < 1e-9,
         "psi's bin table (live shares, contributions) equals numpy's bin by bin (max diff %.3g)" % bd)
    t.ok(ref > 0.01, "the shift shows (psi %.4f)" % ref)
    cur.execute("SELECT scfrisk.psi(%s, scfrisk.predict(%s, features)) FROM gov_train", (model, model))
    t.ok(abs(cur.fetchone()[0]["psi"]) < 1e-12, "psi of the training rows themselves is 0")

    # CSI per feature, with missing values
    thr = tree_thresholds(cur, model, 4)
    cur.execute("SELECT scfrisk.csi(%s, features) FROM gov_live", (model,))
    csi = cur.fetchone()[0]["features"]
    worst = 0.0
    ok_edges = True
    for j in range(4):
        fd = d["features"][j]
        # a tree model bins every input at its own split thresholds (issue 17, item 5),
        # deciles of the values as stored (float32) for an input no tree splits on
        want = thr[j] if len(thr[j]) else decile_edges(X[:, j].astype(np.float32).astype(float))
        ok_edges &= np.array_equal(np.array(fd["edges"]), want)
        r, a, _ = np_psi(np.array(fd["edges"]), np.array(fd["shares"]), fd["missing"], L[:, j])
        worst = max(worst, abs(csi[j]["csi"] - r))
    t.ok(ok_edges, "feature edges of xgb_train are its trees' distinct split thresholds (from xgb_to_json)")
    t.ok(worst < 1e-9, "csi of 4 features with missing values equals numpy's (max diff %.3g)" % worst)
    t.ok(abs(d["features"][0]["missing"] - np.isnan(X[:, 0]).mean()) < 1e-12, "the missing share is stored")

    # every classifier stores it; PSI of its own training rows is 0.  The
    # networks train on float32 rows (DESIGN.md) and store the scores of
    # those, so the rows here are float32 values: scored again as float8 they
    # are the same rows, and no score can cross a bin edge
    Xc = np.nan_to_num(X).astype(np.float32).astype(np.float64)
    load(cur, "gov_full", Xc, y)
    for kind, sql in (("logreg", "scfrisk.logreg_train(features, label, '{}')"),
                      ("mlp", "scfrisk.mlp_train(features, label, '{\"hidden\": [8], \"epochs\": 5}')"),
                      ("xgb_mlp", "scfrisk.xgb_mlp_train(features, label, '{\"xgb\": {\"n_estimators\": 10}, \"mlp\": {\"hidden\": [8], \"epochs\": 5}}')")):
        cur.execute("SELECT %s FROM gov_full" % sql)
        mk = bytes(cur.fetchone()[0])
        cur.execute("SELECT scfrisk.model_governance(%s)->'drift'->>'rows', "
                    "(SELECT scfrisk.psi(%s, scfrisk.predict(%s, features))->>'psi' FROM gov_full)",
                    (mk, mk, mk))
        rows, ps = cur.fetchone()
        t.ok(rows == str(n) and abs(float(ps)) < 1e-12,
             "%s stores the training distribution (%s rows), psi of its training rows %s" % (kind, rows, ps))

    # tree_train and rf_train store it too, every input binned at the trees' own thresholds
    for agg, prm in (("rf_train", {"n_estimators": 30, "max_depth": 6, "seed": 1}),
                     ("tree_train", {"max_depth": 4})):
        cur.execute("SELECT scfrisk.%s(features, label, %%s) FROM gov_train" % agg, (json.dumps(prm),))
        mk = bytes(cur.fetchone()[0])
        cur.execute("SELECT scfrisk.model_governance(%s)", (mk,))
        fd = cur.fetchone()[0]["drift"]["features"]
        cur.execute("SELECT scfrisk.csi(%s, features) FROM gov_live", (mk,))
        csi = cur.fetchone()[0]["features"]
        worst = 0.0
        for j in range(4):
            r, _, _ = np_psi(np.array(fd[j]["edges"]), np.array(fd[j]["shares"]), fd[j]["missing"], L[:, j])
            worst = max(worst, abs(csi[j]["csi"] - r))
            # the stored training shares are numpy's counts of the training values on those edges
            v = X[:, j].astype(np.float32).astype(float)
            cnt = np.bincount(np.searchsorted(fd[j]["edges"], v[~np.isnan(v)], side="right"),
                              minlength=len(fd[j]["shares"])) / n
            worst = max(worst, float(np.max(np.abs(cnt - np.array(fd[j]["shares"])))))
        t.ok(worst < 1e-9, "%s: csi and training shares on its own bins equal numpy's (max diff %.3g)" % (agg, worst))
        # the bins are the model's: a value moved within its bin never changes the score,
        # moved across the bin's upper edge it does for some rows
        rows = Xc[rng.integers(0, n, 300)]
        same, crossed = 0, 0
        for j in range(4):
            e = np.array(fd[j]["edges"])
            if len(e) < 2:
                continue
            b = rng.integers(0, len(e) - 1, len(rows))
            lo, hi = e[b], e[b + 1]
            a1, a2, a3 = rows.copy(), rows.copy(), rows.copy()
            a1[:, j] = lo
            a2[:, j] = np.nextafter(hi, -np.inf).astype(np.float32)
            a2[:, j] = np.where(a2[:, j] >= hi, lo, a2[:, j])
            a3[:, j] = hi
            s1 = np.array([scalar(cur, mk, r) for r in a1])
            s2 = np.array([scalar(cur, mk, r) for r in a2])
            s3 = np.array([scalar(cur, mk, r) for r in a3])
            same += int(np.sum(s1 != s2))
            crossed += int(np.sum(s1 != s3))
        t.ok(same == 0 and crossed > 0, "%s: moving an input within one stored bin changes no score (%d changed), "
             "across its edge %d scores change" % (agg, same, crossed))

    # ------------------------------------------------------------ reliability table
    p_train = scores(cur, model, "gov_train")
    for bins in (10, 7):
        cur.execute("SELECT scfrisk.calibration_table(label, scfrisk.predict(%s, features), %s) FROM gov_train",
                    (model, bins))
        tab = cur.fetchone()[0]
        prob_true, prob_pred = calibration_curve(y, p_train, n_bins=bins, strategy="uniform")
        ne = [b for b in tab["bins"] if b["rows"] > 0]
        dd = max(max(abs(b["observed_rate"] - prob_true[i]), abs(b["mean_score"] - prob_pred[i]))
                 for i, b in enumerate(ne)) if len(ne) == len(prob_true) else 1.0
        ids = np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], p_train)
        cnt = np.bincount(ids, minlength=bins)
        ece = np.sum(cnt[cnt > 0] / n * np.abs(prob_true - prob_pred))
        t.ok(dd < 1e-12 and abs(tab["ece"] - ece) < 1e-12,
             "calibration_table with %d bins equals calibration_curve (max diff %.3g), ECE %.6f vs %.6f"
             % (bins, dd, tab["ece"], ece))

    # ------------------------------------------------------------ calibrate vs CalibratedClassifierCV
    cur.execute("CREATE TEMP TABLE gov_cal AS SELECT * FROM gov_train WHERE id % 2 = 0")
    cur.execute("CREATE TEMP TABLE gov_test AS SELECT * FROM gov_train WHERE id % 2 = 1")
    f_cal = logit(scores(cur, model, "gov_cal"))
    cur.execute("SELECT label FROM gov_cal ORDER BY id")
    y_cal = np.array([r[0] for r in cur.fetchall()])
    f_test = logit(scores(cur, model, "gov_test"))
    for method, tol in (("platt", 1e-6), ("isotonic", 1e-9)):
        cur.execute("SELECT scfrisk.calibrate(%s, features, label, %s) FROM gov_cal", (model, method))
        cm = bytes(cur.fetchone()[0])
        ours = scores(cur, cm, "gov_test")
        sk = CalibratedClassifierCV(Prefit().fit(None, None), cv="prefit",
                                    method="sigmoid" if method == "platt" else "isotonic")
        sk.fit(f_cal.reshape(-1, 1), y_cal)
        ref = sk.predict_proba(f_test.reshape(-1, 1))[:, 1]
        dd = float(np.max(np.abs(ours - ref)))
        t.ok(dd < tol, "calibrate %s: scfrisk.predict equals CalibratedClassifierCV(cv='prefit') "
             "on held-out rows (max diff %.3g, tol %g)" % (method, dd, tol))
        cur.execute("SELECT max(abs(scfrisk.calibrated_score(%s, scfrisk.xgb_predict(%s, features)) "
                    "- scfrisk.predict(%s, features))) FROM gov_test", (cm, cm, cm))
        t.ok(cur.fetchone()[0] == 0.0, "calibrate %s: calibrated_score of xgb_predict equals predict" % method)
    # calibration improves the reliability of a deliberately miscalibrated model
    p2 = dict(p, scale_pos_weight=5.0)
    cur.execute("SELECT scfrisk.xgb_train(features, label, %s) FROM gov_cal", (json.dumps(p2),))
    skew = bytes(cur.fetchone()[0])
    cur.execute("SELECT scfrisk.calibrate(%s, features, label, 'platt') FROM gov_cal", (skew,))
    fixed = bytes(cur.fetchone()[0])
    cur.execute("SELECT (scfrisk.calibration_table(label, scfrisk.predict(%s, features))->>'ece')::float8, "
                "(scfrisk.calibration_table(label, scfrisk.predict(%s, features))->>'ece')::float8 FROM gov_test",
                (skew, fixed))
    e0, e1 = cur.fetchone()
    t.ok(e1 < e0 / 2, "Platt on a scale_pos_weight=5 model: held-out ECE %.4f -> %.4f" % (e0, e1))
    t.done()


if __name__ == "__main__":
    main()

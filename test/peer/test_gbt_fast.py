#!/usr/bin/python3
"""The fast tree scorer in SQL against a reference walk and xgboost 1.7 (issue 19).

Models over 12 and over 24 features (so the byte-code scorer reads one
table of bins and two): xgboost.train models (binary:logistic and
reg:squarederror, depth 3, 6 and 10, with missing values) imported with scfrisk.xgb_from_json, and
models trained by scfrisk.xgb_train and exported with scfrisk.xgb_to_json
into xgboost.  Rows: 10% missing values, as NULL elements and as NaN
elements, and values set to the models' own split conditions (ties go
right).  Every row of every model:

- scfrisk.xgb_predict_margin equals, bit for bit, a reference walk written
  here in numpy from the model's XGBoost JSON (float32 features and
  conditions, x < cond goes left, NaN follows default_left, leaves added in
  float32 in tree order), for NULL and NaN missing values alike;
- scfrisk.xgb_predict and the margin agree with Booster.predict within
  1e-6 (xgboost's own float32 arithmetic; its sigmoid may round differently
  in the last place).

Prints TAP; exits non-zero on any failure.
"""
import json
import os
import sys
import tempfile

import numpy as np
import psycopg2
import xgboost as xgb
from psycopg2.extras import execute_values

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "pylib"))
from sftap import Tap  # noqa: E402

t = Tap()
P = 12
N = 3000


def reference_margin(js, X, base):
    """The reference walk in numpy over the trees of XGBoost JSON text."""
    trees = js["learner"]["gradient_booster"]["model"]["trees"]
    X32 = X.astype(np.float32)
    s = np.full(len(X), base, dtype=np.float32)
    rows = np.arange(len(X))
    for tr in trees:
        lc = np.array(tr["left_children"])
        rc = np.array(tr["right_children"])
        fi = np.array(tr["split_indices"])
        cond = np.array(tr["split_conditions"], dtype=np.float32)
        dl = np.array(tr["default_left"]).astype(bool)
        node = np.zeros(len(X), dtype=np.int64)
        while True:
            inner = lc[node] >= 0
            if not inner.any():
                break
            v = X32[rows, fi[node]]
            with np.errstate(invalid="ignore"):
                left = np.where(np.isnan(v), dl[node], v < cond[node])
            node = np.where(inner, np.where(left, lc[node], rc[node]), node)
        s = s + cond[node]
    return s


def to_booster(text):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        fh.write(text)
        path = fh.name
    bst = xgb.Booster()
    bst.load_model(path)
    os.unlink(path)
    return bst


def booster_json(bst):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        path = fh.name
    bst.save_model(path)
    with open(path) as fh:
        text = fh.read()
    os.unlink(path)
    return text


def make_rows(rng, conds):
    X = rng.normal(size=(N, P))
    # a quarter of the rows hit split conditions exactly (float32 values, as the model holds them)
    hit = rng.random((N, P)) < 0.25
    X[hit] = rng.choice(conds, size=int(hit.sum()))
    X[rng.random((N, P)) < 0.1] = np.nan
    return X


def sql_scores(cur, model, fn, col):
    cur.execute("SELECT scfrisk.%s(%%s, %s) FROM gbt_fast_rows ORDER BY id" % (fn, col), (psycopg2.Binary(model),))
    return np.array([r[0] for r in cur.fetchall()], dtype=np.float64)


def load_rows(cur, X):
    cur.execute("DROP TABLE IF EXISTS gbt_fast_rows")
    cur.execute("CREATE TABLE gbt_fast_rows (id int, f_null float8[], f_nan float8[])")
    rows = [(i, [None if np.isnan(v) else float(v) for v in X[i]], [float(v) for v in X[i]]) for i in range(len(X))]
    execute_values(cur, "INSERT INTO gbt_fast_rows VALUES %s", rows, page_size=2000)


def check_model(cur, name, model, text, X, objective):
    js = json.loads(text)
    base = np.float32(-0.0) if objective == "binary:logistic" else np.float32(0.5)
    ref = reference_margin(js, X, base)
    bst = to_booster(text)
    d = xgb.DMatrix(X, missing=np.nan)
    for col in ("f_null", "f_nan"):
        m = sql_scores(cur, model, "xgb_predict_margin", col)
        same = np.array_equal(m.astype(np.float32).view(np.uint32), ref.view(np.uint32)) and \
            np.array_equal(m, m.astype(np.float32).astype(np.float64))
        bad = int(np.sum(m.astype(np.float32) != ref))
        t.ok(same, "%s, missing as %s: margin equals the reference walk bit for bit (%d of %d rows differ)"
             % (name, col[2:], bad, len(X)))
    diff = float(np.max(np.abs(m - bst.predict(d, output_margin=True))))
    t.ok(diff <= 1e-6, "%s: margin as xgboost's (max abs diff %.3g, tol 1e-6)" % (name, diff))
    p = sql_scores(cur, model, "xgb_predict", "f_nan")
    diff = float(np.max(np.abs(p - bst.predict(d))))
    t.ok(diff <= 1e-6, "%s: prediction as xgboost's (max abs diff %.3g, tol 1e-6)" % (name, diff))


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    for p in (12, 24):
        run(cur, p)
    t.done()


def run(cur, p):
    global P
    P = p
    rng = np.random.default_rng(19)
    Xt = rng.normal(size=(N, P))
    Xt[rng.random((N, P)) < 0.1] = np.nan
    z = np.nan_to_num(Xt[:, 0]) * np.nan_to_num(Xt[:, 1]) + np.sin(2 * np.nan_to_num(Xt[:, 2])) + \
        0.5 * np.nan_to_num(Xt[:, 3])
    yb = (rng.random(N) < 1 / (1 + np.exp(-2 * z))).astype(float)
    yr = z + rng.normal(0, 0.3, N)

    models = []
    for depth in (3, 6, 10):
        for obj, y in (("binary:logistic", yb), ("reg:squarederror", yr)):
            bst = xgb.train({"objective": obj, "tree_method": "hist", "max_depth": depth, "eta": 0.3,
                             "seed": 1, "base_score": 0.5, "nthread": 2},
                            xgb.DMatrix(Xt, label=y, missing=np.nan), num_boost_round=30)
            text = booster_json(bst)
            cur.execute("SELECT scfrisk.xgb_from_json(%s::jsonb)", (text,))
            models.append(("%d features, xgboost %s depth %d" % (P, obj, depth), bytes(cur.fetchone()[0]),
                           text, obj))
    # scfrisk-trained models, exported to xgboost
    cur.execute("DROP TABLE IF EXISTS gbt_fast_train")
    cur.execute("CREATE TABLE gbt_fast_train (f float8[], yb float8, yr float8)")
    execute_values(cur, "INSERT INTO gbt_fast_train VALUES %s",
                   [([None if np.isnan(v) else float(v) for v in Xt[i]], float(yb[i]), float(yr[i]))
                    for i in range(N)], page_size=2000)
    for obj, col in (("binary:logistic", "yb"), ("reg:squarederror", "yr")):
        params = json.dumps({"objective": obj, "max_depth": 6, "n_estimators": 30, "eta": 0.3, "base_score": 0.5})
        cur.execute("SELECT scfrisk.xgb_train(f, %s, %%s) FROM gbt_fast_train" % col, (params,))
        m = bytes(cur.fetchone()[0])
        cur.execute("SELECT scfrisk.xgb_to_json(%s)::text", (psycopg2.Binary(m),))
        models.append(("%d features, scfrisk %s depth 6" % (P, obj), m, cur.fetchone()[0], obj))

    conds = []
    for _, _, text, _ in models:
        for tr in json.loads(text)["learner"]["gradient_booster"]["model"]["trees"]:
            conds += [c for c, l in zip(tr["split_conditions"], tr["left_children"]) if l >= 0]
    X = make_rows(rng, np.array(conds, dtype=np.float32).astype(np.float64))
    load_rows(cur, X)
    for name, m, text, obj in models:
        check_model(cur, name, m, text, X, obj)
    cur.execute("DROP TABLE gbt_fast_rows")
    cur.execute("DROP TABLE gbt_fast_train")


if __name__ == "__main__":
    main()

"""model_info of every kind: feature_names always, training metrics where computed.

For one model of each kind (gbt, mlp, xgb_mlp, logreg, qrgmm_linear,
qrgmm_deepfm) trained on one small table:

- model_info has the key "feature_names": null when the model has no names,
  the names in order when the trainer took them (xgb_train's and the
  hybrid's feature_names);
- "info" holds the training metrics the trainer computed, and they agree
  with what can be recomputed: the MLP's and the hybrid network's training
  loss is a log-loss, finite and below the log-loss of the constant
  prediction at the base rate (the closed form -p ln p - (1-p) ln(1-p));
  logistic regression's objective is finite and at most that of the
  all-zero coefficients (C n ln 2, the objective at theta = 0); gbt's
  evaluation log has one training log-loss per round run, the
  last below the constant model's; DeepFM's best losses are
  finite and non-negative (pinball losses); QRGMM's levels report their
  duality gap (exact LPs: no training loss to show).
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

SETUP = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
DROP TABLE IF EXISTS mi;
CREATE TABLE mi AS
SELECT i, ARRAY[((i * 7919) % 1000) / 1000.0, ((i * 104729) % 997) / 997.0,
                ((i * 1299709) % 991) / 991.0]::float8[] AS features,
       ARRAY[i % 4, i % 3]::int[] AS cat, 0::float8 AS label, 0::float8 AS y
FROM generate_series(1, 1000) AS i;
UPDATE mi SET label = (features[1] * 2 - features[2] + 0.5 * features[3]
                       + ((i * 31) % 100) / 100.0 > 1.2)::int,
              y = 10 + 3 * features[1] - features[2] + cat[1] + ((i * 7) % 50) / 25.0;
"""

NAMES = ["alpha", "beta", "gamma"]
MODELS = {
    "gbt": "scfrisk.xgb_train(features, label, '{\"n_estimators\": 15, \"eval_metric\": \"logloss\"}')",
    "gbt_named": "scfrisk.xgb_train(features, label, '{\"n_estimators\": 5, \"feature_names\": %s}')"
                 % json.dumps(NAMES),
    "mlp": "scfrisk.mlp_train(features, label, '{\"hidden\": [8], \"epochs\": 20, \"seed\": 1}')",
    "xgb_mlp": "scfrisk.xgb_mlp_train(features, label, '{\"threshold\": 0.01, \"xgb\": {\"n_estimators\": 10, "
               "\"feature_names\": %s}, \"mlp\": {\"hidden\": [8], \"epochs\": 10}}')" % json.dumps(NAMES),
    "logreg": "scfrisk.logreg_train(features, label, '{\"C\": 1}')",
    "qrgmm_linear": "scfrisk.qrgmm_train(features, y, '{\"m\": 20}')",
    "qrgmm_deepfm": "scfrisk.qrgmm_deepfm_train(features, cat, y, '{\"k\": 4, \"layers\": [8], \"m\": 10, "
                    "\"epochs\": 5, \"seed\": 1}')",
}


def main():
    t = Tap()
    c = psycopg2.connect("")
    c.autocommit = True
    cur = c.cursor()
    cur.execute(SETUP)
    cur.execute("SELECT avg(label), count(*) FROM mi")
    p, n = cur.fetchone()
    const_logloss = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    info = {}
    for k, call in MODELS.items():
        cur.execute("SELECT scfrisk.model_info(%s) FROM mi" % call)
        info[k] = cur.fetchone()[0]
    for k in ("gbt", "mlp", "logreg", "qrgmm_linear", "qrgmm_deepfm"):
        t.ok("feature_names" in info[k] and info[k]["feature_names"] is None,
             "%s: model_info has feature_names null (no names given)" % k, json.dumps(info[k])[:300])
    for k in ("gbt_named", "xgb_mlp"):
        t.ok(info[k].get("feature_names") == NAMES, "%s: model_info lists the feature names given" % k,
             str(info[k].get("feature_names")))
    g = info["gbt"]["info"]
    tr = (g.get("eval_log") or {}).get("train") or []
    t.ok(len(tr) == g.get("rounds_run", -1) > 0 and tr[-1] < const_logloss,
         "gbt: one training log-loss per round run, the last below the constant model's",
         json.dumps(g)[:400])
    m = info["mlp"]["info"]
    t.ok(isinstance(m.get("train_loss"), float) and 0 < m["train_loss"] < const_logloss,
         "mlp: training log-loss %.4f below the constant model's %.4f" % (m.get("train_loss") or -1, const_logloss))
    h = info["xgb_mlp"]["info"].get("mlp") or {}
    t.ok(isinstance(h.get("train_loss"), float) and 0 < h["train_loss"] < const_logloss,
         "xgb_mlp: the network's training log-loss below the constant model's", json.dumps(h)[:300])
    lr = info["logreg"]["info"]
    t.ok(isinstance(lr.get("objective"), float) and 0 < lr["objective"] <= n * math.log(2),
         "logreg: objective %.3f at most C n ln 2 = %.3f (theta = 0)" % (lr.get("objective") or -1, n * math.log(2)))
    d = info["qrgmm_deepfm"]["info"]
    t.ok(all(isinstance(d.get(x), float) and d[x] >= 0 and math.isfinite(d[x])
             for x in ("best_train_loss", "best_validation_loss")),
         "qrgmm_deepfm: best training and validation pinball losses", json.dumps(d)[:300])
    q = info["qrgmm_linear"]["info"]
    t.ok(isinstance(q.get("max_gap"), float) and q["max_gap"] >= 0,
         "qrgmm_linear: the levels' duality gap (exact LPs)", json.dumps(q)[:300])
    t.done()


if __name__ == "__main__":
    main()

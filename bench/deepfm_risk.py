#!/usr/bin/python3
"""Expected loss at small PD from linear QRGMM and DeepFM QRGMM on the full
section 8.2 law (test/pylib/scf_law.py), against the lognormal closed form.

The law's location and scale depend on a category x market interaction, which
linear QRGMM on one-hot main effects cannot express; DeepFM can.  For each
model (linear QRGMM with flat and exponential tails; DeepFM with flat and
exponential tails; DeepFM with exponential tails and "refit": true), at 20
covariate profiles, the loans whose due amount is the true quantile at PD
0.01..0.05 go through scfrisk.loan_risk_curve, and the relative EL errors are
summarised (mean absolute, mean signed, median absolute).  Training rows n
(default 20,000) as in bench/deepfm_bench.py; DeepFM settings as its fidelity
run.

    scripts/cluster.sh /usr/bin/python3 bench/deepfm_risk.py [n]
"""
import io
import os
import sys
import time

import numpy as np
import psycopg2
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "pylib"))
from scf_law import ScfLaw, linear_design  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
RATE = 0.02
DEEPFM = ('{"k": 8, "layers": [128, 64], "m": 100, "epochs": 200, "batch_size": 256, '
          '"learning_rate": 0.001, "weight_decay": 1e-5, "dropout": 0.1, "patience": 20, "seed": 1%s}')
MODELS = [
    ("linear QRGMM, flat", "SELECT scfrisk.qrgmm_train(x, s, %s) FROM tr", '{"tail": "flat"}'),
    ("linear QRGMM, exponential", "SELECT scfrisk.qrgmm_train(x, s, %s) FROM tr", '{"tail": "exponential"}'),
    ("DeepFM, flat", "SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr", DEEPFM % ''),
    ("DeepFM, exponential", "SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr",
     DEEPFM % ', "tail": "exponential"'),
    ("DeepFM refit, exponential", "SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr",
     DEEPFM % ', "tail": "exponential", "refit": true'),
]


def fmt(v):
    return "{" + ",".join(repr(float(a)) if isinstance(a, (float, np.floating)) else str(int(a))
                          for a in v) + "}"


conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")

law = ScfLaw()
rng = np.random.default_rng(2026)
num, cat = law.covariates(rng, N)
s = law.sample(rng, num, cat)
X = linear_design(num, cat)
cur.execute("DROP TABLE IF EXISTS tr")
cur.execute("CREATE TABLE tr (num float8[], cat int[], x float8[], s float8)")
cur.copy_expert("COPY tr FROM STDIN", io.StringIO("\n".join(
    "%s\t%s\t%s\t%r" % (fmt(num[i]), fmt(cat[i]), fmt(X[i]), float(s[i])) for i in range(N))))

pn, pc = law.profiles(20, seed=11)
mu, sig = law.params(pn, pc)
pds = np.linspace(0.01, 0.05, 9)
print("# n = %d, 20 profiles, true PD 0.01..0.05 (9 levels); relative EL error in %%" % N)
for name, sql, params in MODELS:
    t0 = time.time()
    cur.execute(sql, (params,))
    model = cur.fetchone()[0]
    secs = time.time() - t0
    rel = []
    for i in range(len(mu)):
        loans = list(np.exp(mu[i] + sig[i] * stats.norm.ppf(pds)) / (1 + RATE))
        if name.startswith("linear"):
            cov = fmt(linear_design(pn[i:i + 1], pc[i:i + 1])[0])
        else:
            cov = fmt(list(pn[i]) + list(pc[i]))
        cur.execute("SELECT due, el FROM scfrisk.loan_risk_curve(%s, %s::float8[], %s, %s)",
                    (model, cov, loans, '{"rate": %r}' % RATE))
        r = np.array(cur.fetchall())
        z = (np.log(r[:, 0]) - mu[i]) / sig[i]
        el_true = r[:, 0] * stats.norm.cdf(z) - np.exp(mu[i] + sig[i] ** 2 / 2) * stats.norm.cdf(z - sig[i])
        rel.extend((r[:, 1] - el_true) / el_true)
    rel = 100 * np.array(rel)
    print("%-27s mean |error| %6.1f  mean %+6.1f  median |error| %6.1f  (trained in %.1f s)"
          % (name, np.mean(np.abs(rel)), np.mean(rel), np.median(np.abs(rel)), secs), flush=True)

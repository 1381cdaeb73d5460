#!/usr/bin/python3
"""Coverage of the bootstrap interval of PD and EL at a loan (issue 16).

The sales law is the lognormal segment law of test_risk.py (test/pylib/
scf_segment.py: log S = mu(x) + sig(x) eps, eps ~ N(0, 1), where linear
quantile regression is correctly specified), so the PD and EL of a loan at a
covariate profile have closed forms.  For each of S independent data sets of
n rows, scfrisk.qrgmm_train fits the model and scfrisk.qrgmm_bootstrap B
replicates (same params, the seed of the data set); scfrisk.loan_risk_interval
gives the 90% percentile intervals of PD and EL at loans where the true PD is
5% and 10% (the first profile, rate 0.02).  The share of the S intervals that
cover the closed-form PD (and EL) is a binomial(S, c) proportion whose c
should be 0.9; it is asserted >= COVER_MIN.

Why COVER_MIN = 0.75 for S = 40: at a true coverage of 0.9 the share's
standard deviation is sqrt(0.9 0.1 / 40) = 0.047, so 0.75 is 3.2 standard
deviations below (a false alarm with probability < 0.2% per assertion), and
an interval that covers only 75% of the time (as a too-narrow bootstrap would)
fails it half the time at least.  The shares and the mean widths are printed.
With B = 30 the coverage measured over 120 data sets is about 0.84 (few
replicates put the percentile ends inside the law's quantiles); with B = 100
over 60 data sets it is 0.87-0.93, as nominal (docs/risk.md).

Run time: n = 1000 rows, m = 20 levels, B = 30 replicates, S = 40 data
sets keep the 40 x 31 fits within about 20 s on the loaded test machine (the
whole suite must stay under 15 minutes); every figure comes from the same
seeds on every run (SCFRISK_INTERVAL_S etc. change them for a longer study).

Run with /usr/bin/python3 against a database (PG* variables).
"""
import io
import os
import sys

import numpy as np
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from sftap import Tap  # noqa: E402
from scf_segment import Law, PROFILES, covariates, mu_sig, truth  # noqa: E402

N = int(os.environ.get("SCFRISK_INTERVAL_N", "1000"))
M = int(os.environ.get("SCFRISK_INTERVAL_M", "20"))
B = int(os.environ.get("SCFRISK_INTERVAL_B", "30"))
S = int(os.environ.get("SCFRISK_INTERVAL_S", "40"))
LEVEL = 0.9
RATE = 0.02
PDS = (0.05, 0.10)
COVER_MIN = 0.75

t = Tap()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")

law = Law(False)
x0 = PROFILES[0]
mu0, sig0 = (v[0] for v in mu_sig(x0[None, :]))
# loans whose due (1 + r) L sits at the true PD quantile of the sales law at x0
loans = [float(np.exp(mu0 + sig0 * law.ppf(p)) / (1 + RATE)) for p in PDS]
tru = [truth(law, mu0, sig0, (1 + RATE) * L, 0.95)[:2] for L in loans]

# S data sets of n rows in one table (s, x, y)
rows = []
for s in range(S):
    rng = np.random.default_rng(1600 + s)
    X = covariates(rng, N)
    y = law.sample(rng, X)
    rows.extend("%d\t{%s}\t%r" % (s, ",".join(repr(float(v)) for v in X[i]), float(y[i]))
                for i in range(N))
cur.execute("DROP TABLE IF EXISTS interval_train")
cur.execute("CREATE TABLE interval_train (s int, x float8[], y float8)")
cur.copy_expert("COPY interval_train FROM STDIN", io.StringIO("\n".join(rows)))

params = '{"m": %d}' % M
cur.execute("DROP TABLE IF EXISTS interval_fits")
cur.execute("CREATE TABLE interval_fits AS "
            "SELECT s, scfrisk.qrgmm_train(x, y, %s) AS model, "
            "       scfrisk.qrgmm_bootstrap(x, y, %s, %s, s) AS reps "
            "FROM interval_train GROUP BY s", (params, params, B))
print("# %d data sets of n = %d, m = %d, B = %d replicates" % (S, N, M, B))

xs = "{%s}" % ",".join(repr(float(v)) for v in x0)
for k, (p, L) in enumerate(zip(PDS, loans)):
    pd_true, el_true = tru[k]
    cur.execute("SELECT i.pd, i.pd_lower, i.pd_upper, i.el, i.el_lower, i.el_upper "
                "FROM interval_fits f, scfrisk.loan_risk_interval(f.model, f.reps, %s, %s, %s, %s) i "
                "ORDER BY f.s", (xs, L, LEVEL, '{"rate": %r}' % RATE))
    r = np.array(cur.fetchall())
    t.ok(len(r) == S, "one interval per data set at PD %.2f (%d)" % (p, len(r)))
    t.ok(bool(np.all((r[:, 1] <= r[:, 2]) & (r[:, 4] <= r[:, 5]))), "intervals ordered at PD %.2f" % p)
    cov_pd = float(np.mean((r[:, 1] <= pd_true) & (pd_true <= r[:, 2])))
    cov_el = float(np.mean((r[:, 4] <= el_true) & (el_true <= r[:, 5])))
    print("# true PD %.4f EL %.2f at loan %.1f: coverage of the %.0f%% intervals PD %.3f, EL %.3f; "
          "mean width PD %.4f, EL %.2f; point PD bias %+.4f, EL bias %+.2f"
          % (pd_true, el_true, L, 100 * LEVEL, cov_pd, cov_el, np.mean(r[:, 2] - r[:, 1]),
             np.mean(r[:, 5] - r[:, 4]), np.mean(r[:, 0]) - pd_true, np.mean(r[:, 3]) - el_true))
    t.ok(cov_pd >= COVER_MIN, "PD coverage %.3f >= %.2f at true PD %.2f (S = %d, nominal %.2f)"
         % (cov_pd, COVER_MIN, p, S, LEVEL))
    t.ok(cov_el >= COVER_MIN, "EL coverage %.3f >= %.2f at true PD %.2f (S = %d, nominal %.2f)"
         % (cov_el, COVER_MIN, p, S, LEVEL))

cur.execute("DROP TABLE interval_fits")
cur.execute("DROP TABLE interval_train")
sys.exit(t.done())

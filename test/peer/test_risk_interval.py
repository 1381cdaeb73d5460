#!/usr/bin/python3
"""Coverage of the bootstrap intervals of PD, EL, VaR and CVaR at a loan (issue 16).

The sales law is the lognormal segment law of test_risk.py (test/pylib/
scf_segment.py: log S = mu(x) + sig(x) eps, eps ~ N(0, 1), where linear
quantile regression is correctly specified), so the PD, EL, VaR and CVaR of
a loan at a covariate profile have closed forms.

Part 1, independent rows.  For each of S independent data sets of n rows,
scfrisk.qrgmm_train fits the model and scfrisk.qrgmm_bootstrap B replicates
(same params, the seed of the data set); scfrisk.loan_risk_interval gives the
90% intervals, plain percentile (the default) and bias-corrected ('bc'), at
loans where the true PD is 5% and 10% (the first profile, rate 0.02).  The
share of the S intervals that cover the closed-form value is a binomial(S, c)
proportion whose c should be 0.9; both methods' shares are printed, the
default's is asserted >= COVER_MIN for PD and EL (the percentile interval
is the default because it covered more often here and in the longer runs of
bench/interval_coverage.sh: docs/risk.md).

Part 2, clustered rows.  G sellers of T months each: the seller's covariates
are fixed, the month varies, and the noise is eps = sqrt(RHO) u_seller +
sqrt(1 - RHO) e_month with u, e ~ N(0, 1) independent, so the law of log S
given the covariates is still N(mu, sig^2) (the same closed form) while the
T months of one seller are correlated (RHO).  The row bootstrap treats the
G T rows as independent and gives too narrow an interval; the cluster
bootstrap (qrgmm_bootstrap with the seller as cluster key) resamples
sellers.  Both coverages are printed; asserted: the cluster interval is
wider (mean width ratio > WIDER = 1.3; the ratio is about 1 for independent
rows, and here about the square root of the design effect 1 + (T - 1) rho_I
of the indicator 1{log S < q_p}, whose within-seller correlation rho_I is
0.20 at p = 0.05 and 0.25 at p = 0.10 for RHO = 0.5: 1.68 and 1.80), it
covers at least CLUSTER_MIN, and more often than the row bootstrap.

Why COVER_MIN = 0.75 for S = 40: at a true coverage of 0.9 the share's
standard deviation is sqrt(0.9 0.1 / 40) = 0.047, so 0.75 is 3.2 standard
deviations below (a false alarm with probability < 0.2% per assertion), and
an interval that covers only 75% of the time (as a too-narrow bootstrap would)
fails it half the time at least.  CLUSTER_MIN = 0.7 for S = 30 with B = 30:
few replicates and few clusters cover about 0.84 (docs/risk.md), and the
share's standard deviation at 0.84 and S = 30 is 0.067, so 0.7 is 2.1
standard deviations below that; a row bootstrap of these data covers about
half the time.

Run time: n = 1000 rows (800 in part 2), m = 20 levels, B = 30 replicates,
S = 40 (20) data sets keep the fits within about a minute on the loaded test
machine (the whole suite must stay under 15 minutes); every figure comes from
the same seeds on every run.  SCFRISK_INTERVAL_S, _B, _N, _M and
SCFRISK_INTERVAL_CLUSTER_S change them for a longer study
(bench/interval_coverage.sh; SCFRISK_INTERVAL_PARTS=1 or 2 runs one part).

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
S2 = int(os.environ.get("SCFRISK_INTERVAL_CLUSTER_S", "20"))
PARTS = os.environ.get("SCFRISK_INTERVAL_PARTS", "1,2").split(",")
G, T, RHO = 80, 10, 0.5
LEVEL = 0.9
VAR_LEVEL = 0.95
RATE = 0.02
PDS = (0.05, 0.10)
COVER_MIN = 0.75
CLUSTER_MIN = 0.6
WIDER = 1.3
DEFAULT = "percentile"
MEASURES = ("pd", "el", "var", "cvar")
params = '{"m": %d}' % M

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


def true_measures(L):
    """PD, EL, VaR, CVaR (VAR_LEVEL) of the loan L at x0 in closed form."""
    due = (1 + RATE) * L
    pd, el, cv = truth(law, mu0, sig0, due, VAR_LEVEL)
    var = max(due - float(np.exp(mu0 + sig0 * law.ppf(1 - VAR_LEVEL))), 0.0)
    return {"pd": pd, "el": el, "var": var, "cvar": cv}


def load(name, rows):
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (s int, seller int, x float8[], y float8)" % name)
    cur.copy_expert("COPY %s FROM STDIN" % name, io.StringIO("\n".join(rows)))


def row(s, g, x, y):
    return "%d\t%d\t{%s}\t%r" % (s, g, ",".join(repr(float(v)) for v in x), float(y))


def intervals(fits, reps, L, method):
    """(S, 13) array: per data set, point, lower, upper of PD, EL, VaR, CVaR and the level."""
    cur.execute("SELECT i.pd, i.pd_lower, i.pd_upper, i.el, i.el_lower, i.el_upper, "
                "       i.var, i.var_lower, i.var_upper, i.cvar, i.cvar_lower, i.cvar_upper, i.var_level "
                "FROM %s f, scfrisk.loan_risk_interval(f.model, f.%s, %%s, %%s, %%s, %%s, %%s) i "
                "ORDER BY f.s" % (fits, reps),
                ("{%s}" % ",".join(repr(float(v)) for v in x0), L, LEVEL,
                 '{"rate": %r, "level": %r}' % (RATE, VAR_LEVEL), method))
    return np.array(cur.fetchall(), dtype=float)


def coverage(r, tru):
    """Share of intervals covering the truth and mean width, per measure."""
    out = {}
    for k, name in enumerate(MEASURES):
        lo, hi = r[:, 3 * k + 1], r[:, 3 * k + 2]
        out[name] = (float(np.mean((lo <= tru[name]) & (tru[name] <= hi))), float(np.mean(hi - lo)))
    return out


def show(label, cov):
    return "%s: %s" % (label, ", ".join("%s %.3f (width %.4g)" % (k, cov[k][0], cov[k][1])
                                          for k in MEASURES))


# ---------------------------------------------------------------- part 1: independent rows
def part1():
    rows = []
    for s in range(S):
        rng = np.random.default_rng(1600 + s)
        X = covariates(rng, N)
        y = law.sample(rng, X)
        rows.extend(row(s, i, X[i], y[i]) for i in range(N))
    load("interval_train", rows)
    cur.execute("DROP TABLE IF EXISTS interval_fits")
    cur.execute("CREATE TABLE interval_fits AS "
                "SELECT s, scfrisk.qrgmm_train(x, y, %s) AS model, "
                "       scfrisk.qrgmm_bootstrap(x, y, %s, %s, s) AS reps "
                "FROM interval_train GROUP BY s", (params, params, B))
    print("# part 1: %d data sets of n = %d independent rows, m = %d, B = %d replicates" % (S, N, M, B))

    for p, L in zip(PDS, loans):
        tru = true_measures(L)
        res = {}
        for method in ("percentile", "bc"):
            r = intervals("interval_fits", "reps", L, method)
            t.ok(len(r) == S, "one %s interval per data set at PD %.2f (%d)" % (method, p, len(r)))
            t.ok(bool(all(np.all(r[:, 3 * k + 1] <= r[:, 3 * k + 2]) for k in range(4))),
                 "%s intervals ordered at PD %.2f" % (method, p))
            res[method] = coverage(r, tru)
            print("# true PD %.4f EL %.2f VaR %.1f CVaR %.1f at loan %.1f; %.0f%% intervals, %s"
                  % (tru["pd"], tru["el"], tru["var"], tru["cvar"], L, 100 * LEVEL,
                     show(method, res[method])))
        t.ok(bool(np.all(r[:, 12] == VAR_LEVEL)), "var_level reported (%g)" % VAR_LEVEL)
        for name in ("pd", "el"):
            c = res[DEFAULT][name][0]
            t.ok(c >= COVER_MIN, "default (" + DEFAULT + ") %s coverage %.3f >= %.2f at true PD %.2f (S = %d, nominal %.2f)"
                 % (name.upper(), c, COVER_MIN, p, S, LEVEL))

    cur.execute("DROP TABLE interval_fits")
    cur.execute("DROP TABLE interval_train")


# ---------------------------------------------------------------- part 2: clustered rows
def part2():
    rows = []
    for s in range(S2):
        rng = np.random.default_rng(2600 + s)
        Xs = covariates(rng, G)
        u = rng.standard_normal(G)
        for g in range(G):
            for month in range(1, T + 1):
                x = Xs[g].copy()
                x[3] = np.sin(2 * np.pi * month / 12)
                mu, sig = (v[0] for v in mu_sig(x[None, :]))
                eps = np.sqrt(RHO) * u[g] + np.sqrt(1 - RHO) * rng.standard_normal()
                rows.append(row(s, g, x, np.exp(mu + sig * eps)))
    load("interval_ctrain", rows)
    cur.execute("DROP TABLE IF EXISTS interval_cfits")
    cur.execute("CREATE TABLE interval_cfits AS "
                "SELECT s, scfrisk.qrgmm_train(x, y, %s) AS model, "
                "       scfrisk.qrgmm_bootstrap(x, y, %s, %s, s) AS reps, "
                "       scfrisk.qrgmm_bootstrap(x, y, %s, %s, s, seller) AS creps "
                "FROM interval_ctrain GROUP BY s", (params, params, B, params, B))
    print("# part 2: %d data sets of %d sellers x %d months (within-seller correlation %.1f), "
          "m = %d, B = %d replicates" % (S2, G, T, RHO, M, B))
    row_cov, cluster_cov = [], []
    for p, L in zip(PDS, loans):
        tru = true_measures(L)
        rc = coverage(intervals("interval_cfits", "reps", L, DEFAULT), tru)
        cc = coverage(intervals("interval_cfits", "creps", L, DEFAULT), tru)
        print("# true PD %.4f at loan %.1f; %s" % (tru["pd"], L, show("row bootstrap", rc)))
        print("# true PD %.4f at loan %.1f; %s" % (tru["pd"], L, show("cluster bootstrap", cc)))
        for name in ("pd", "el"):
            ratio = cc[name][1] / rc[name][1]
            t.ok(ratio > WIDER, "cluster %s interval wider than the row one at true PD %.2f: mean width ratio "
                 "%.2f > %.1f" % (name.upper(), p, ratio, WIDER))
            t.ok(cc[name][0] >= CLUSTER_MIN, "cluster %s coverage %.3f >= %.2f at true PD %.2f (row bootstrap "
                 "%.3f; S = %d, nominal %.2f)" % (name.upper(), cc[name][0], CLUSTER_MIN, p, rc[name][0], S2, LEVEL))
            row_cov.append(rc[name][0])
            cluster_cov.append(cc[name][0])
    t.ok(np.mean(cluster_cov) > np.mean(row_cov), "the cluster bootstrap covers more often than the row bootstrap "
         "(PD and EL at both loans: %.3f > %.3f)" % (np.mean(cluster_cov), np.mean(row_cov)))

    cur.execute("DROP TABLE interval_cfits")
    cur.execute("DROP TABLE interval_ctrain")


if "1" in PARTS:
    part1()
if "2" in PARTS:
    part2()
sys.exit(t.done())

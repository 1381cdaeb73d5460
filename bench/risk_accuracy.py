#!/usr/bin/python3
"""How accurate are EL and CVaR from fitted QRGMM models, and what limits them?

The risk formulas are exact on a model's curve (test/unit/test_risk.c,
test/peer/test_risk.py); the error of EL and CVaR against the truth is the
fitted model's error in the lower tail of the sales law.  This bench measures
that error over independent replicates at several training sizes n, on the
section 8.2 segment law (test/pylib/scf_segment.py: lognormal and T5 heavy
tail, three covariate profiles), and sets beside it the floor that no
estimator fitted on n rows beats by much: the empirical EL of n draws taken
directly from the true conditional law at the profile (an oracle that knows
which law to sample; a regression estimator, which must also learn how the law
moves with x, does worse by roughly the square root of the profile's leverage).

For each law, n and replicate: fresh training data, qrgmm_train with flat and
with linear tails (same quantile regressions, only the outer knots differ),
then at each profile the loans whose true PD is 0.01, 0.02, 0.05, 0.10 and
0.20 (sales preset, rate 0.02, level 0.95) through scfrisk.loan_risk_curve.
Printed: root-mean-square and mean (bias) relative errors of EL and CVaR per PD
level, pooled over profiles and replicates; the oracle's RMS; the predicted
RMS of a linear regression estimate, the oracle's standard deviation
(scf_segment.oracle_sd, exact) times the square root of the profile's leverage
x0' (D'D/n)^-1 x0; the issue's figure, the worst relative error over a
120-point loan grid where PD >= 0.01, averaged over replicates; and the worst
|z| there, the error in units of that predicted standard deviation.

    scripts/cluster.sh /usr/bin/python3 bench/risk_accuracy.py [--n 15000,60000,240000] [--reps 4] [--m 1000] [--tails flat,linear] [--laws lognormal,heavy]
"""
import argparse
import os
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "pylib"))
from scf_segment import Law, PROFILES, covariates, leverage, load, mu_sig, oracle_sd, truth  # noqa: E402

RATE, LEVEL = 0.02, 0.95
PDS = np.array([0.01, 0.02, 0.05, 0.10, 0.20])

ap = argparse.ArgumentParser()
ap.add_argument("--n", default="15000,60000,240000")
ap.add_argument("--reps", type=int, default=4)
ap.add_argument("--m", type=int, default=1000)
ap.add_argument("--laws", default="lognormal,heavy")
ap.add_argument("--tails", default="flat,linear")
args = ap.parse_args()
TAILS = args.tails.split(",")

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET max_parallel_workers_per_gather = 0")

mu0, sig0 = mu_sig(PROFILES)


def curve(model, k, loans):
    xs = "{%s}" % ",".join(repr(float(v)) for v in PROFILES[k])
    cur.execute("SELECT due, el, cvar FROM scfrisk.loan_risk_curve(%s, %s, %s, %s)",
                (model, xs, list(loans), '{"rate": %r, "level": %r}' % (RATE, LEVEL)))
    return np.array(cur.fetchall())


def oracle(law, rng, n, k, dues):
    """Empirical EL and CVaR of n draws from the true law at profile k."""
    S = np.sort(np.exp(mu0[k] + sig0[k] * law.draw(rng, n)))
    out = []
    ntail = int(round(n * (1 - LEVEL)))
    for d in dues:
        loss = np.maximum(d - S, 0)
        out.append((loss.mean(), loss[:ntail].sum() / (n * (1 - LEVEL))))
    return np.array(out)


print("# m = %d, rate %.2f, CVaR level %.2f; relative errors in %%; PD levels %s"
      % (args.m, RATE, LEVEL, ", ".join("%.2f" % p for p in PDS)))
for lawname in args.laws.split(","):
    law = Law(lawname == "heavy")
    for n in [int(v) for v in args.n.split(",")]:
        # errors[variant][measure] -> list over (rep, profile) of arrays over PDS
        err = {v: {"el": [], "cvar": []} for v in TAILS + ["oracle", "predicted"]}
        zmax = {v: [] for v in TAILS}
        worst = {v: [] for v in TAILS}
        t_fit = 0.0
        for rep in range(args.reps):
            rng = np.random.default_rng([7001, n, rep, law.heavy])
            X = covariates(rng, n)
            load(cur, "acc_train", X, law.sample(rng, X))
            models = {}
            for v in TAILS:
                t0 = time.time()
                cur.execute("SELECT scfrisk.qrgmm_train(x, y, %s) FROM acc_train",
                            ('{"m": %d, "tail": "%s"}' % (args.m, v),))
                models[v] = cur.fetchone()[0]
                t_fit += time.time() - t0
            for k in range(len(PROFILES)):
                m_, s_ = mu0[k], sig0[k]
                dues = np.exp(m_ + s_ * law.ppf(PDS))
                tr = np.array([truth(law, m_, s_, d, LEVEL) for d in dues])
                # the regression's predicted error: the oracle floor times the
                # square root of the profile's leverage in this design
                rh = np.sqrt(leverage(X, PROFILES[k]))
                sd = np.array([oracle_sd(law, m_, s_, d, n, LEVEL) for d in dues]) * rh
                err["predicted"]["el"].append(sd[:, 0] / tr[:, 1])
                err["predicted"]["cvar"].append(sd[:, 1] / tr[:, 2])
                for v in TAILS:
                    r = curve(models[v], k, dues / (1 + RATE))
                    err[v]["el"].append(r[:, 1] / tr[:, 1] - 1)
                    err[v]["cvar"].append(r[:, 2] / tr[:, 2] - 1)
                    lo = np.exp(m_ + s_ * law.ppf(0.002)) / (1 + RATE)
                    hi = np.exp(m_ + s_ * law.ppf(0.6)) / (1 + RATE)
                    g = curve(models[v], k, np.linspace(lo, hi, 120))
                    tg = np.array([truth(law, m_, s_, d, LEVEL) for d in g[:, 0]])
                    sel = tg[:, 0] >= 0.01
                    worst[v].append(max(np.max(np.abs(g[sel, 1] / tg[sel, 1] - 1)),
                                        np.max(np.abs(g[sel, 2] / tg[sel, 2] - 1))))
                    sg = np.array([oracle_sd(law, m_, s_, d, n, LEVEL) for d in g[sel, 0]]) * rh
                    zmax[v].append(max(np.max(np.abs(g[sel, 1] - tg[sel, 1]) / sg[:, 0]),
                                       np.max(np.abs(g[sel, 2] - tg[sel, 2]) / sg[:, 1])))
                o = oracle(law, rng, n, k, dues)
                err["oracle"]["el"].append(o[:, 0] / tr[:, 1] - 1)
                err["oracle"]["cvar"].append(o[:, 1] / tr[:, 2] - 1)
        print("\n## %s, n = %d, %d replicates x %d profiles (fits %.1f s each)"
              % (law.name, n, args.reps, len(PROFILES), t_fit / (len(TAILS) * args.reps)))
        print("%-28s %s" % ("", " ".join("%7.2f" % p for p in PDS)))
        for v in TAILS + ["oracle", "predicted"]:
            for meas in ("el", "cvar"):
                e = np.array(err[v][meas]) * 100
                print("%-28s %s" % ("%s %s RMS" % (v, meas.upper()),
                                    " ".join("%7.2f" % x for x in np.sqrt(np.mean(e * e, 0)))))
            if v == "predicted":
                continue
            e = np.array(err[v]["el"]) * 100
            print("%-28s %s" % ("%s EL mean (bias)" % v, " ".join("%7.2f" % x for x in np.mean(e, 0))))
        for v in TAILS:
            print("%-28s %.2f (min %.2f, max %.2f)" % ("%s worst where PD>=0.01" % v,
                  100 * np.mean(worst[v]), 100 * np.min(worst[v]), 100 * np.max(worst[v])))
            print("%-28s %.2f (max %.2f)" % ("%s worst |z| there" % v, np.mean(zmax[v]), np.max(zmax[v])))
        sys.stdout.flush()

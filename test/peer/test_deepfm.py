#!/usr/bin/python3
"""Peer test of scfrisk's QRGMM DeepFM against linear QRGMM and the closed-form truth.

1. Fidelity on the synthetic SCF sales law of methods/qrgmm_scf.md section 8.2,
   whose location and scale depend on a category x market interaction (n = 4,000
   training rows here, modest epochs, so the test runs in about a minute; the
   n = 20,000 figures are bench/deepfm_bench.py): the DeepFM model beats linear
   QRGMM (numeric fields plus one-hot main effects of the categorical fields)
   on held-out mean pinball loss (levels 0.01..0.99, log1p scale) and on mean
   Kolmogorov and Wasserstein-1 distances to the true conditional law over 20
   fixed covariate profiles.  Both models are judged against the truth, not
   against each other's numbers.
2. The DeepFM overloads give the same quantiles as the float8[] covariates; a
   parallel aggregate plan, a serial one and reversed row order give the same
   model bytes (training starts from a canonical row order).
4. Tail rules on the default grid m = 100: the same network with flat and
   with exponential lower tails share every knot but the outer two; the
   exponential model's EL is never below the flat one's; loan_risk_curve's
   EL is the integral of each curve (numpy).  The mean absolute relative
   error of EL against the lognormal closed form, where the true PD is
   0.01..0.05, is printed for both, not held (the fit's own tail error
   dominates at these sizes: see section 4).
3. The bad-input list of issue 8: negative, NULL and unseen ids (the unknown
   bucket), field counts that differ from training, absurd embedding sizes and
   layer lists, NaN responses, corrupted models, each with its SQLSTATE.

Run with /usr/bin/python3.
"""
import io
import os
import sys
import time

import numpy as np
import psycopg2
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from sftap import Tap  # noqa: E402
from scf_law import ScfLaw, linear_design, curve_distances  # noqa: E402

t = Tap()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")

N_TRAIN, N_TEST = 4000, 2000
DEEPFM_PARAMS = ('{"k": 8, "layers": [128, 64], "m": 50, "epochs": 200, "batch_size": 128, '
                 '"learning_rate": 0.001, "dropout": 0.1, "patience": 30, "seed": 1}')
# flat tails, as DeepFM's default here: linear QRGMM's default became the
# exponential tail in 0.2.0 (issue 16), and the comparison is of the fits
LINEAR_PARAMS = '{"m": 50, "tail": "flat"}'


def fmt(v):
    return "{" + ",".join(repr(float(a)) if isinstance(a, float) or isinstance(a, np.floating)
                          else str(int(a)) for a in v) + "}"


def load(name, num, cat, s):
    X = linear_design(num, cat)
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (k int, num float8[], cat int[], x float8[], s float8)" % name)
    rows = "\n".join("%d\t%s\t%s\t%s\t%r" % (i, fmt(num[i]), fmt(cat[i]), fmt(X[i]), float(s[i]))
                     for i in range(len(s)))
    cur.copy_expert("COPY %s FROM STDIN" % name, io.StringIO(rows))


def sqlstate(sql, args=None):
    try:
        cur.execute(sql, args)
        cur.fetchall()
        return None
    except psycopg2.Error as e:
        return e.pgcode


law = ScfLaw()
rng = np.random.default_rng(2026)
num, cat = law.covariates(rng, N_TRAIN)
s = law.sample(rng, num, cat)
load("tr", num, cat, s)
num_t, cat_t = law.covariates(rng, N_TEST)
s_t = law.sample(rng, num_t, cat_t)
load("te", num_t, cat_t, s_t)

t0 = time.time()
cur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr", (DEEPFM_PARAMS,))
deepfm = cur.fetchone()[0]
t_deepfm = time.time() - t0
t0 = time.time()
cur.execute("SELECT scfrisk.qrgmm_train(x, s, %s) FROM tr", (LINEAR_PARAMS,))
linear = cur.fetchone()[0]
t_linear = time.time() - t0
cur.execute("SELECT scfrisk.model_info(%s)->'info'", (deepfm,))
info = cur.fetchone()[0]
t.ok(info["epochs_run"] >= 1 and 1 <= info["best_epoch"] <= info["epochs_run"],
     "DeepFM trained %d epochs (best %d) in %.1f s; linear QRGMM in %.1f s"
     % (info["epochs_run"], info["best_epoch"], t_deepfm, t_linear))

# 1a. held-out pinball on y = log1p(S) over levels 0.01..0.99
taus = np.arange(1, 100) / 100.0
tau_sql = "{" + ",".join("%.2f" % v for v in taus) + "}"


def heldout_pinball(model, cov):
    cur.execute("SELECT scfrisk.qrgmm_quantiles(%%s, %s, %%s::float8[]) FROM te ORDER BY k" % cov,
                (model, tau_sql))
    q = np.log1p(np.array([r[0] for r in cur.fetchall()]))
    r = np.log1p(s_t)[:, None] - q
    return float(np.mean(np.where(r >= 0, taus * r, (taus - 1) * r)))


pl_deepfm = heldout_pinball(psycopg2.Binary(deepfm), "num || cat::float8[]")
pl_linear = heldout_pinball(psycopg2.Binary(linear), "x")
# the truth's own pinball loss, for scale
mu_t, sig_t = law.params(num_t, cat_t)
q_true = law.y_quantile(taus[None, :], mu_t[:, None], sig_t[:, None])
r = np.log1p(s_t)[:, None] - q_true
pl_true = float(np.mean(np.where(r >= 0, taus * r, (taus - 1) * r)))
t.ok(pl_deepfm < pl_linear,
     "held-out pinball: DeepFM %.5f < linear %.5f (truth %.5f)" % (pl_deepfm, pl_linear, pl_true))

# 1b. Kolmogorov and W1 to the true conditional law over 20 fixed profiles
pn, pc = law.profiles(20)
mu_p, sig_p = law.params(pn, pc)
ks = {"deepfm": [], "linear": []}
w1 = {"deepfm": [], "linear": []}
Xp = linear_design(pn, pc)
for i in range(20):
    cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[], %s::int[])",
                (psycopg2.Binary(deepfm), fmt(pn[i]), fmt(pc[i])))
    a, b = curve_distances(law, np.array(cur.fetchone()[0]), mu_p[i], sig_p[i])
    ks["deepfm"].append(a)
    w1["deepfm"].append(b)
    cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[])", (psycopg2.Binary(linear), fmt(Xp[i])))
    a, b = curve_distances(law, np.array(cur.fetchone()[0]), mu_p[i], sig_p[i])
    ks["linear"].append(a)
    w1["linear"].append(b)
t.ok(np.mean(ks["deepfm"]) < np.mean(ks["linear"]),
     "mean Kolmogorov distance over 20 profiles: DeepFM %.4f < linear %.4f"
     % (np.mean(ks["deepfm"]), np.mean(ks["linear"])))
t.ok(np.mean(w1["deepfm"]) < np.mean(w1["linear"]),
     "mean Wasserstein-1 (log scale) over 20 profiles: DeepFM %.4f < linear %.4f"
     % (np.mean(w1["deepfm"]), np.mean(w1["linear"])))

# 2. the overloads and the float8[] covariates give the same numbers
cur.execute("""SELECT bool_and(scfrisk.qrgmm_quantiles(%s, num, cat, '{0.1,0.5,0.9}')
                              = scfrisk.qrgmm_quantiles(%s, num || cat::float8[], '{0.1,0.5,0.9}'))
               FROM te WHERE k < 200""", (psycopg2.Binary(deepfm), psycopg2.Binary(deepfm)))
t.ok(cur.fetchone()[0] is True, "overloads equal the float8[] covariate form on 200 rows")

# 2b. a parallel plan trains on the same rows in another order: the same bytes
cur.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
            "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; "
            "SET parallel_leader_participation = off")
small = '{"k": 4, "layers": [16], "m": 10, "epochs": 3, "patience": 0}'
cur.execute("EXPLAIN SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr", (small,))
plan = "\n".join(r[0] for r in cur.fetchall())
t.ok("Partial Aggregate" in plan, "qrgmm_deepfm_train runs as a parallel partial aggregate", plan)
cur.execute("SELECT md5(scfrisk.qrgmm_deepfm_train(num, cat, s, %s)) FROM tr", (small,))
md5_par = cur.fetchone()[0]
cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute("SELECT md5(scfrisk.qrgmm_deepfm_train(num, cat, s, %s)) FROM tr", (small,))
md5_ser = cur.fetchone()[0]
cur.execute("SELECT md5(scfrisk.qrgmm_deepfm_train(num, cat, s, %s ORDER BY k DESC)) FROM tr", (small,))
md5_rev = cur.fetchone()[0]
t.ok(md5_par == md5_ser == md5_rev, "parallel, serial and reversed-order training give the same bytes")

# 4. tail rules on the default grid (m = 100): the same network with flat and
# with exponential lower tails (same params and seed, only "tail" differs, so
# the knots at j/m are identical and only qa_0 and qa_m move).  With flat
# tails the whole region below 1/m is an atom at q_1, which understates
# EL = E[(s - S)^+] where the PD is near 1/m; the exponential tail integrates
# a tail fitted to the two lowest knots there.  Judged against the lognormal
# closed form EL(s) = s Phi(z) - M Phi(z - sig), z = (ln s - mu)/sig,
# M = exp(mu + sig^2/2), at the due amounts where the true PD is 0.01..0.05.
# Held: the rule moves only the outer knots, adds lower-tail mass (EL never
# falls, PD unchanged between q_1 and q_{m-1}), and loan_risk_curve's EL is
# the integral of each model's own curve (numpy, 1e-7 relative).
# Printed, not held: the mean |relative EL error| of both models.  The issue
# asked for exponential < flat to be held; measured, it does not hold
# reliably for DeepFM at test sizes: the curve's own error at its lowest
# knots (PD at the true 1% quantile anywhere from 0 to 0.05, at 4,000 to
# 20,000 rows) outweighs the flat tail's bias, and the network's lower tails
# come out too wide (EL overstated on average), which the flat atom partly
# offsets.  Whole law, 4,000 rows: exponential lower for 2 of 5 training
# seeds; 12,000 and 20,000 rows: flat 0.83 and 0.86, exponential 1.09 and
# 1.10; one (category, market, month) cell, 4,000 rows: exponential lower for
# 2 of 7 data samples (docs/qrgmm-deepfm.md, "Tail rules").
TAIL_PARAMS = ('{"k": 8, "layers": [64, 32], "m": 100, "epochs": 60, "batch_size": 256, '
               '"learning_rate": 0.002, "dropout": 0, "patience": 15, "seed": 1}')
RATE = 0.02


def curve_el(qa, s):
    """EL(s) = s p - integral_0^p expm1(Qhat_y(u)) du on the piecewise-linear log1p curve, p = Fhat(s)."""
    m = len(qa) - 1
    u = np.arange(m + 1) / m
    y = np.log1p(s)
    if y <= qa[0]:
        return 0.0
    p = 1.0 if y >= qa[-1] else float(np.interp(y, qa, u))
    total = 0.0
    for j in range(m):
        lo, hi = u[j], min(u[j + 1], p)
        if hi <= lo:
            break
        d = (qa[j + 1] - qa[j]) * m * (hi - lo)
        phi = 1 + 0.5 * d if abs(d) < 1e-8 else np.expm1(d) / d
        total += (hi - lo) * (np.exp(qa[j]) * phi - 1)
    return s * p - total


def tail_rules(table, pn4, pc4):
    """Train flat and exponential on table; EL errors against the truth at the profiles and the held checks."""
    t0 = time.time()
    models = {}
    for rule in ("flat", "exponential"):
        cur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %%s::jsonb || jsonb_build_object('tail', %%s::text)) "
                    "FROM %s" % table, (TAIL_PARAMS, rule))
        models[rule] = psycopg2.Binary(cur.fetchone()[0])
    secs = time.time() - t0
    mu4, sig4 = law.params(pn4, pc4)
    pds = np.linspace(0.01, 0.05, 9)
    rel = {"flat": [], "exponential": []}
    signed = {"flat": [], "exponential": []}
    same_inner = more_el = same_pd = exact = True
    for i in range(len(mu4)):
        # loans whose due amount (1 + r) L is the true quantile at PD 0.01..0.05
        loans = list(np.exp(mu4[i] + sig4[i] * stats.norm.ppf(pds)) / (1 + RATE))
        curves, res = {}, {}
        for rule, model in models.items():
            cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[], %s::int[])", (model, fmt(pn4[i]), fmt(pc4[i])))
            curves[rule] = np.array(cur.fetchone()[0])
            cur.execute("SELECT due, pd, el FROM scfrisk.loan_risk_curve(%s, %s::float8[] || %s::int[]::float8[], %s, %s)",
                        (model, fmt(pn4[i]), fmt(pc4[i]), loans, '{"rate": %r}' % RATE))
            r = np.array(cur.fetchall())
            res[rule] = r
            z = (np.log(r[:, 0]) - mu4[i]) / sig4[i]
            el_true = r[:, 0] * stats.norm.cdf(z) - np.exp(mu4[i] + sig4[i] ** 2 / 2) * stats.norm.cdf(z - sig4[i])
            rel[rule].extend(np.abs(r[:, 2] - el_true) / el_true)
            signed[rule].extend((r[:, 2] - el_true) / el_true)
            for due, el in r[:, [0, 2]]:
                ref = curve_el(curves[rule], due)
                exact &= abs(el - ref) <= 1e-7 * max(ref, 1.0)
        f, e = curves["flat"], curves["exponential"]
        same_inner &= bool(np.array_equal(f[1:-1], e[1:-1])) and e[0] <= f[0] and e[-1] >= f[-1]
        more_el &= bool(np.all(res["exponential"][:, 2] >= res["flat"][:, 2] - 1e-9 * res["flat"][:, 0]))
        yd = np.log1p(res["flat"][:, 0])
        inner = (yd >= f[1]) & (yd <= f[-2])
        same_pd &= bool(np.allclose(res["flat"][inner, 1], res["exponential"][inner, 1], rtol=0, atol=1e-12))
    err = {k: float(np.mean(v)) for k, v in rel.items()}
    bias = {k: float(np.mean(v)) for k, v in signed.items()}
    return err, bias, secs, same_inner and more_el and same_pd and exact, len(mu4) * len(pds)


pn4, pc4 = law.profiles(10, seed=11)
err, bias, secs, held, n_el = tail_rules("tr", pn4, pc4)
t.ok(held, "tail rules (m = 100, 10 profiles): flat and exponential curves share every knot but the outer two; "
     "exponential EL >= flat EL, PD equal between q_1 and q_{m-1}; EL = integral of each curve (numpy)")
print("# printed, not held: m = 100, %d EL values where the true PD is 0.01..0.05: mean |relative "
      "error| flat %.1f%%, exponential %.1f%% (mean signed %+.1f%% vs %+.1f%%; trained in %.1f s)"
      % (n_el, 100 * err["flat"], 100 * err["exponential"], 100 * bias["flat"], 100 * bias["exponential"], secs),
      flush=True)

# 3. bad input
B = psycopg2.Binary(deepfm)
t.ok(sqlstate("SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[-1, cat[2], cat[3]], s, '{}') FROM tr") == "22000",
     "negative id in training: 22000")
t.ok(sqlstate("SELECT scfrisk.qrgmm_deepfm_train(num, ARRAY[NULL, cat[2], cat[3]]::int[], s, '{}') FROM tr") == "22004",
     "NULL id in training: 22004")
t.ok(sqlstate("SELECT scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4, 9.5], ARRAY[-1, 0, 3], 0.5)", (B,)) == "22000",
     "negative id at scoring: 22000")
t.ok(sqlstate("SELECT scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4, 9.5], ARRAY[NULL, 0, 3]::int[], 0.5)", (B,)) == "22004",
     "NULL id at scoring: 22004")
cur.execute("SELECT scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4, 9.5], ARRAY[123, 0, 3], 0.5),"
            "       scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4, 9.5], ARRAY[0, 0, 3], 0.5)", (B, B))
unk, known = cur.fetchone()
t.ok(unk is not None and np.isfinite(unk) and known is not None,
     "an id unseen in training scores through the unknown bucket (median %.0f vs %.0f for id 0)" % (unk, known))
t.ok(sqlstate("SELECT scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4], ARRAY[0, 0, 3, 1], 0.5)", (B,)) == "22000",
     "field counts that differ from training: 22000")
t.ok(sqlstate("SELECT scfrisk.qrgmm_quantile(%s, ARRAY[10, 3, 4, 9.5, 0, 0], 0.5)", (B,)) == "22000",
     "covariate width that differs from training: 22000")
t.ok(sqlstate("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, '{\"k\": 5000}') FROM tr") == "22023",
     "absurd embedding size: 22023")
t.ok(sqlstate("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, '{\"layers\": [64, 0]}') FROM tr") == "22023",
     "absurd layer list: 22023")
t.ok(sqlstate("SELECT scfrisk.qrgmm_deepfm_train(num, cat, CASE WHEN k = 7 THEN 'NaN' ELSE s END, '{}') FROM tr") == "22000",
     "NaN response: 22000")
corrupt = bytearray(deepfm)
corrupt[len(corrupt) // 2] ^= 0x5A
t.ok(sqlstate("SELECT scfrisk.qrgmm_curve(%s, ARRAY[10, 3, 4, 9.5, 0, 0, 3])", (psycopg2.Binary(bytes(corrupt)),)) == "XX001",
     "corrupted model: XX001")
t.done()

#!/usr/bin/python3
"""Loan risk benchmarks, scfrisk and vectorised numpy side by side (issue 6).

    scripts/cluster.sh /usr/bin/python3 bench/risk_bench.py [--sellers N] [--levels G] [--reps R]

1. curve: one seller's 200-point loan risk curve from a QRGMM model
   (scfrisk.loan_risk_curve, R calls in one query, the covariates varied per
   call so that every call builds its curve) against numpy doing the same
   work per call: the curve from the model's coefficients (basis product,
   sort, flat tails, log1p prefix integrals) and PD, EL, CVaR, VaR, profit at
   the 200 loans (section 6.3a), vectorised over the loans.
2. view: the seller_risk_curve computation over N sellers (default 100,000)
   x G loan levels (default 50) of the demo data set (a sales model trained
   on the first 2,000 sellers), as one SQL statement (lateral
   loan_risk_curve per seller, rows counted) against numpy vectorised over
   all sellers and levels at once (one global searchsorted), after both have
   the same covariates in memory.  The numbers of the two are compared too.

Every figure is printed as "name: value"; ratios are scfrisk / numpy, of
medians of at least three alternating runs (bench/benchlib.py), with the load
before and after (NOISY above 0.5 per core: exit 3, do not record).  The SQL
session runs with jit = off (--jit on to compare).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, say  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--sellers", type=int, default=100000)
ap.add_argument("--levels", type=int, default=50)
ap.add_argument("--reps", type=int, default=2000)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--jit", default="off", help="the jit setting of the SQL session")
args = ap.parse_args()

bench = Bench()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute("SET client_min_messages = warning")
# JIT compilation of the big lateral join costs more than it saves here (the
# work is in C functions); scfrisk_demo.refresh_risk() turns it off the same way
cur.execute("SET jit = %s", (args.jit,))
RATE, FEE, RF, LEVEL = 0.03, 0.005, 0.005, 0.95
TERMS = '{"rate": %r, "fee": %r, "funding_rate": %r, "level": %r}' % (RATE, FEE, RF, LEVEL)


def median(times, side):
    return statistics.median(times[side])


# --------------------------------------------------------------- numpy peer
def curves(B, X):
    """Sorted knots (rows, m+1) on the log1p scale and prefix integrals of expm1."""
    q = np.hstack([np.ones((X.shape[0], 1)), X]) @ B.T          # (rows, m-1)
    q.sort(axis=1)
    qa = np.hstack([q[:, :1], q, q[:, -1:]])                     # flat tails
    m = qa.shape[1] - 1
    d = np.diff(qa, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(np.abs(d) < 1e-8, 1 + 0.5 * d, np.expm1(d) / d)
    seg = (np.exp(qa[:, :-1]) * phi - 1) / m
    prefix = np.hstack([np.zeros((qa.shape[0], 1)), np.cumsum(seg, axis=1)])
    return qa, prefix


def partial(qa, prefix, rows, s):
    """F = Fhat_S(s) and I = integral_0^F Qhat_S for thresholds s (k,) of curve rows (k,)."""
    m = qa.shape[1] - 1
    t = np.log1p(s)
    # one global searchsorted: row r's knots shifted by r * span
    span = (qa.max() - qa.min()) + 10.0
    flat = (qa + (np.arange(qa.shape[0]) * span)[:, None]).ravel()
    j = np.searchsorted(flat, t + rows * span, side="left") - 1 - rows * (m + 1)
    lo = t <= qa[rows, 0]
    hi = t > qa[rows, m]
    j = np.clip(j, 0, m - 1)
    q0, q1 = qa[rows, j], qa[rows, j + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(q1 > q0, (t - q0) / (q1 - q0), 0.0) / m
        dd = t - q0
        phi = np.where(np.abs(dd) < 1e-8, 1 + 0.5 * dd, np.expm1(dd) / dd)
    F = j / m + w
    I = prefix[rows, j] + w * (np.exp(q0) * phi - 1)
    F = np.where(lo, 0.0, np.where(hi, 1.0, F))
    I = np.where(lo, 0.0, np.where(hi, prefix[rows, m], I))
    return F, I


def integral(qa, prefix, rows, p):
    m = qa.shape[1] - 1
    mp = p * m
    j = np.minimum(mp.astype(int), m - 1)
    w = p - j / m
    q0 = qa[rows, j]
    d = (qa[rows, j + 1] - q0) * m * w
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(np.abs(d) < 1e-8, 1 + 0.5 * d, np.expm1(d) / d)
    return prefix[rows, j] + w * (np.exp(q0) * phi - 1)


def risk(qa, prefix, rows, L):
    """Section 6.3a, preset sales (kappa = 1): PD, EL, CVaR, VaR, profit."""
    m = qa.shape[1] - 1
    t = (1 + RATE) * L
    F, I = partial(qa, prefix, rows, t)
    P = np.minimum(F, 1 - LEVEL)
    IP = np.where(P < F, integral(qa, prefix, rows, P), I)
    el = np.maximum(t * F - I, 0)
    cvar = np.maximum(t * P - IP, 0) / (1 - LEVEL)
    u = (1 - LEVEL) * m
    jv = int(u)
    qv = np.expm1(qa[rows, jv] + (u - jv) * (qa[rows, jv + 1] - qa[rows, jv]))
    var = np.maximum(t - qv, 0)
    profit = t - el + FEE * L - (1 + RF) * L
    return F, el, cvar, var, profit


# --------------------------------------------------------------- data
# flat tails: the numpy side below builds the paper's flat-tail curves
t0 = time.perf_counter()
cur.execute("SELECT scfrisk.generate_demo_data(%s, %s)", (args.sellers, args.seed))
say("generate_demo_data(%d sellers) s" % args.sellers, "%.1f" % (time.perf_counter() - t0))
t0 = time.perf_counter()
cur.execute("""SELECT scfrisk.qrgmm_train(
    scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, m.month),
    m.revenue, '{"tail": "flat"}')
    FROM scfrisk_demo.sales_monthly m JOIN scfrisk_demo.sellers s USING (seller_id) WHERE s.seller_id <= 2000""")
model = cur.fetchone()[0]
say("sales model (24,000 seller-months) fit s", "%.1f" % (time.perf_counter() - t0))
cur.execute("DROP TABLE IF EXISTS bench_model")
cur.execute("CREATE TABLE bench_model AS SELECT %s::bytea AS model", (model,))
cur.execute("SELECT tau, coefficients FROM scfrisk.qrgmm_coefficients(%s) ORDER BY level", (model,))
B = np.array([r[1] for r in cur.fetchall()])
say("grid m", B.shape[0] + 1)
say("jit", args.jit)
cur.execute("""SELECT seller_id, past_period_sales,
    scfrisk.demo_sales_covariates(log_past_sales, age_years, rating, category, marketplace, 1)
    FROM scfrisk_demo.sellers ORDER BY seller_id""")
rows = cur.fetchall()
ids = np.array([r[0] for r in rows])
scale = np.array([r[1] for r in rows])
X = np.array([r[2] for r in rows])

# --------------------------------------------------------------- 1. one seller, 200 points
x0 = X[0]
loans0 = np.linspace(0, scale[0], 200)
R = args.reps
sql = """SELECT count(*) FROM generate_series(1, %s) g, bench_model b,
    LATERAL scfrisk.loan_risk_curve(b.model, ARRAY[%s + g * 1e-12] || %s::float8[], %s, %s) c"""
params = (R, float(x0[0]), list(map(float, x0[1:])), list(map(float, loans0)), TERMS)
cur.execute(sql, params)
assert cur.fetchone()[0] == R * 200


def one_numpy():
    for g in range(R):
        xg = x0.copy()
        xg[0] += (g + 1) * 1e-12
        qa, pre = curves(B, xg[None, :])
        risk(qa, pre, np.zeros(200, dtype=int), loans0)


times = bench.alternate({"scfrisk": lambda: cur.execute(sql, params), "numpy": one_numpy})
t_sql, t_np = median(times, "scfrisk") / R, median(times, "numpy") / R
say("curve: scfrisk loan_risk_curve, 200 loans, per call us", "%.1f" % (t_sql * 1e6))
say("curve: numpy (curve from coefficients + 6.3a, vectorised over loans), per call us", "%.1f" % (t_np * 1e6))
say("curve: ratio scfrisk / numpy", "%.3f" % (t_sql / t_np))
# same numbers?
cur.execute("SELECT pd, el, cvar, var, expected_profit FROM bench_model b, "
            "LATERAL scfrisk.loan_risk_curve(b.model, %s, %s, %s) ORDER BY loan",
            (list(map(float, x0)), list(map(float, loans0)), TERMS))
got = np.array(cur.fetchall())
qa, pre = curves(B, x0[None, :])
ref = np.column_stack(risk(qa, pre, np.zeros(200, dtype=int), loans0))
rel = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-9 * np.max(np.abs(ref), axis=0)))
say("curve: largest relative difference scfrisk vs numpy", "%.2g" % rel)

# --------------------------------------------------------------- 2. the view
G = args.levels
# the model as a scalar subquery (one InitPlan), as demo_refresh_risk passes it
# in a variable: a join with bench_model rescanned that table once per seller
view = """FROM scfrisk_demo.sellers s, (SELECT (SELECT model FROM bench_model) AS model) b,
    LATERAL scfrisk.loan_risk_curve(b.model,
        scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, 1),
        scfrisk.loan_grid(s.past_period_sales, %s), %s) c"""
cur.execute("SELECT count(*), sum(c.pd), sum(c.el) " + view, (G, TERMS))
cnt, sum_pd, sum_el = cur.fetchone()
assert cnt == len(ids) * G

rows_idx = np.repeat(np.arange(len(ids)), G)
Lgrid = (scale[:, None] * (np.arange(G) / (G - 1))[None, :]).ravel()


def view_numpy():
    qa, pre = curves(B, X)
    return risk(qa, pre, rows_idx, Lgrid)


# the SQL-side floor: the same lateral join producing the same number of rows without risk work
floor_sql = """SELECT count(*) FROM scfrisk_demo.sellers s,
    LATERAL unnest(scfrisk.loan_grid(s.past_period_sales, %s)) c"""
times = bench.alternate({"scfrisk": lambda: cur.execute("SELECT count(*) " + view, (G, TERMS)),
                         "numpy": view_numpy,
                         "floor": lambda: cur.execute(floor_sql, (G,))})
t_view, t_vnp, t_floor = median(times, "scfrisk"), median(times, "numpy"), median(times, "floor")
for side in times:
    say("view: %s runs s" % side, ", ".join("%.2f" % v for v in times[side]))
F, el, *_ = view_numpy()
say("view: %d sellers x %d levels, scfrisk (one SQL statement) s" % (len(ids), G), "%.2f" % t_view)
say("view: numpy vectorised over all sellers and levels s", "%.2f" % t_vnp)
say("view: ratio scfrisk / numpy", "%.3f" % (t_view / t_vnp))
say("view: rows per second, scfrisk", "%.0f" % (cnt / t_view))
say("view: relative difference of sum(pd), sum(el)", "%.2g, %.2g"
    % (abs(sum_pd - F.sum()) / F.sum(), abs(sum_el - el.sum()) / el.sum()))
say("view: floor (same lateral join and grid, no risk work) s", "%.2f" % t_floor)
bench.done()

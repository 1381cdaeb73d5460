#!/usr/bin/python3
"""QRGMM benchmarks, scfrisk and its peers side by side (issue 5).

    scripts/cluster.sh /usr/bin/python3 bench/qrgmm_bench.py [sections...]

Sections (default: all):
  solver      n = 100,000 rows, 10 covariates, 99 levels: scfrisk qrgmm_train vs
              statsmodels QuantReg (the QRGMM authors' solver) on the same data;
              pinball objective per level and total time.  --sm-levels K times
              statsmodels on K evenly spaced levels only and scales its time to
              99 levels (reported as such).
  large       n = 1,000,000 rows, 10 covariates, 99 levels: scfrisk time.
  sampling    qrgmm_sample_array of 10,000,000 draws for one x vs numpy.interp
              on the same curve (after the curve is built).
  fidelity    Test Problems 1 and 2 of section 8.1 with 20 seeds: mean
              Kolmogorov distance at x0.

Every figure is printed as a line "name: value"; ratios are scfrisk / peer.
"""
import argparse
import io
import os
import sys
import time

import numpy as np
import psycopg2
from scipy import stats

ap = argparse.ArgumentParser()
ap.add_argument("sections", nargs="*", default=["solver", "large", "sampling", "fidelity"])
ap.add_argument("--n", type=int, default=100000)
ap.add_argument("--n-large", type=int, default=1000000)
ap.add_argument("--sm-levels", type=int, default=99)
ap.add_argument("--seeds", type=int, default=20)
ap.add_argument("--threads", type=int, default=1, help="scfrisk.threads for training")
args = ap.parse_args()

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute("SET scfrisk.threads = %s", (args.threads,))
print("threads: %d" % args.threads)


def say(name, value):
    print("%s: %s" % (name, value), flush=True)


def load(name, X, y):
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE UNLOGGED TABLE %s (x float8[], y float8)" % name)
    buf = io.StringIO()
    for i in range(len(y)):
        buf.write("{%s}\t%r\n" % (",".join(repr(float(v)) for v in X[i]), float(y[i])))
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("VACUUM ANALYZE %s" % name)


def train(table, params):
    t0 = time.perf_counter()
    cur.execute("SELECT scfrisk.qrgmm_train(x, y, %s) FROM " + table, (params,))
    model = cur.fetchone()[0]
    return model, time.perf_counter() - t0


def pinball(y, q, tau):
    r = y - q
    return float(np.sum(np.where(r >= 0, tau * r, (tau - 1) * r)))


def wide(rng, n, d=10):
    X = rng.uniform(-2, 2, (n, d))
    beta = np.linspace(0.5, -0.5, d)
    sd = 1 + 0.3 * np.abs(X[:, 0])
    return X, 3 + X @ beta + sd * rng.standard_t(5, n)


if "solver" in args.sections:
    import statsmodels.api as sm
    rng = np.random.default_rng(1)
    X, y = wide(rng, args.n)
    load("bench_qr", X, y)
    model, t_ours = train("bench_qr", '{"m": 100, "transform": "identity"}')
    say("solver.n", args.n)
    say("solver.scfrisk_seconds", "%.2f" % t_ours)
    cur.execute("SELECT tau, coefficients FROM scfrisk.qrgmm_coefficients(%s) ORDER BY level", (model,))
    levels = cur.fetchall()
    design = sm.add_constant(X)
    pick = np.unique(np.linspace(0, 98, args.sm_levels).round().astype(int))
    t_sm = 0.0
    worst = -np.inf
    for j in pick:
        tau, coef = levels[j]
        t0 = time.perf_counter()
        fit = sm.QuantReg(y, design).fit(q=tau, max_iter=1000, p_tol=1e-6)
        t_sm += time.perf_counter() - t0
        ours = pinball(y, design @ np.array(coef), tau)
        theirs = pinball(y, design @ fit.params, tau)
        worst = max(worst, (ours - theirs) / theirs)
    t_sm_99 = t_sm * 99.0 / len(pick)
    say("solver.statsmodels_levels_timed", len(pick))
    say("solver.statsmodels_seconds_99_levels%s" % ("" if len(pick) == 99 else "_extrapolated"), "%.2f" % t_sm_99)
    say("solver.ratio_time", "%.4f" % (t_ours / t_sm_99))
    say("solver.worst_relative_objective_excess_vs_statsmodels", "%.3g" % worst)
    cur.execute("DROP TABLE bench_qr")

if "large" in args.sections:
    rng = np.random.default_rng(2)
    X, y = wide(rng, args.n_large)
    load("bench_qr_large", X, y)
    model, t_ours = train("bench_qr_large", '{"m": 100, "transform": "identity"}')
    say("large.n", args.n_large)
    say("large.scfrisk_seconds", "%.2f" % t_ours)
    cur.execute("SELECT scfrisk.model_info(%s)->'info'", (model,))
    say("large.info", cur.fetchone()[0])
    cur.execute("DROP TABLE bench_qr_large")

if "sampling" in args.sections:
    rng = np.random.default_rng(3)
    X, y = wide(rng, 20000)
    load("bench_qr_s", X, y)
    model, _ = train("bench_qr_s", '{"m": 100, "transform": "identity"}')
    x0 = [0.1] * 10
    K = 10000000
    # server-side time of the draws alone: generate, then count without shipping the array
    cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[])", (model, x0))
    curve = np.array(cur.fetchone()[0])
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        cur.execute("SELECT array_length(scfrisk.qrgmm_sample_array(%s, %s::float8[], %s, 1), 1)", (model, x0, K))
        cur.fetchone()
        best = min(best, time.perf_counter() - t0)
    t_ours = best
    cur.execute("SELECT 1")
    t0 = time.perf_counter()
    cur.execute("SELECT 1")
    t_rt = time.perf_counter() - t0
    u_grid = np.linspace(0, 1, len(curve))
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        u = np.random.default_rng(1).random(K)
        np.interp(u, u_grid, curve)
        best = min(best, time.perf_counter() - t0)
    say("sampling.draws", K)
    say("sampling.scfrisk_seconds", "%.3f" % (t_ours - t_rt))
    say("sampling.scfrisk_draws_per_second", "%.3g" % (K / (t_ours - t_rt)))
    say("sampling.numpy_interp_seconds", "%.3f" % best)
    say("sampling.ratio_time", "%.3f" % ((t_ours - t_rt) / best))
    cur.execute("DROP TABLE bench_qr_s")

if "fidelity" in args.sections:
    K = 100000
    ks1, ks2 = [], []
    for seed in range(args.seeds):
        rng = np.random.default_rng(5000 + seed)
        n = 10000
        X = np.column_stack([rng.uniform(0, 10, n), rng.uniform(-5, 5, n), rng.uniform(0, 5, n)])
        y = 5 + X[:, 0] + 2 * X[:, 1] + 0.5 * X[:, 2] + \
            (1 + 0.1 * X[:, 0] + 0.2 * X[:, 1] + 0.05 * X[:, 2]) * rng.standard_normal(n)
        load("bench_fid", X, y)
        model, _ = train("bench_fid", '{"m": 100, "transform": "identity"}')
        cur.execute("SELECT scfrisk.qrgmm_sample_array(%s, ARRAY[6,1,2]::float8[], %s, %s)", (model, K, seed))
        ks1.append(stats.kstest(np.array(cur.fetchone()[0]), stats.norm(14, 1.9).cdf).statistic)

        X = np.column_stack([rng.uniform(0, 10, n), rng.uniform(-5, 5, n)])
        y = rng.laplace(0.05 * X[:, 0] * X[:, 1], 5 * np.sin(X[:, 0] + X[:, 1]) ** 2 + 5)
        load("bench_fid", X, y)
        model, _ = train("bench_fid", '{"m": 100, "degree": 3, "transform": "identity"}')
        cur.execute("SELECT scfrisk.qrgmm_sample_array(%s, ARRAY[4,4]::float8[], %s, %s)", (model, K, seed))
        ks2.append(stats.kstest(np.array(cur.fetchone()[0]),
                                stats.laplace(0.8, 5 * np.sin(8.0) ** 2 + 5).cdf).statistic)
    say("fidelity.seeds", args.seeds)
    say("fidelity.tp1_mean_ks", "%.4f (se %.4f)" % (np.mean(ks1), np.std(ks1) / np.sqrt(len(ks1))))
    say("fidelity.tp2_mean_ks", "%.4f (se %.4f)" % (np.mean(ks2), np.std(ks2) / np.sqrt(len(ks2))))
    cur.execute("DROP TABLE bench_fid")

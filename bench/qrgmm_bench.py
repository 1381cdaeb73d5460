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
The timed sections run scfrisk and its peer alternately --repeat times (default
3) and report medians with their spread, under bench/benchlib.py's discipline
(load before, other processes' CPU during the run; NOISY figures exit 3).
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
ap.add_argument("--sm-levels", type=int, default=5)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--seeds", type=int, default=20)
ap.add_argument("--threads", type=int, default=1, help="scfrisk.threads for training")
args = ap.parse_args()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, say  # noqa: E402

bench = Bench()

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute("SET scfrisk.threads = %s", (args.threads,))
print("threads: %d" % args.threads)


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
    design = sm.add_constant(X)
    pick = np.unique(np.linspace(0, 98, args.sm_levels).round().astype(int))
    fitted = {}

    def solver_sf():
        fitted["model"], t = train("bench_qr", '{"m": 100, "transform": "identity"}')
        return t

    def solver_sm():
        # statsmodels on len(pick) evenly spaced levels, scaled to 99
        cur.execute("SELECT tau FROM scfrisk.qrgmm_coefficients(%s) ORDER BY level", (fitted["model"],))
        taus = [r[0] for r in cur.fetchall()]
        t_sm = 0.0
        fitted["sm"] = {}
        for j in pick:
            t0 = time.perf_counter()
            fitted["sm"][j] = sm.QuantReg(y, design).fit(q=taus[j], max_iter=1000, p_tol=1e-6).params
            t_sm += time.perf_counter() - t0
        return t_sm * 99.0 / len(pick)

    say("solver.n", args.n)
    say("solver.statsmodels_levels_timed", "%d (time scaled to 99 levels)" % len(pick))
    times = bench.alternate({"scfrisk": solver_sf, "statsmodels": solver_sm}, args.repeat)
    bench.report("solver", times, "scfrisk", "statsmodels")
    cur.execute("SELECT tau, coefficients FROM scfrisk.qrgmm_coefficients(%s) ORDER BY level", (fitted["model"],))
    levels = cur.fetchall()
    worst = max((pinball(y, design @ np.array(levels[j][1]), levels[j][0])
                 - pinball(y, design @ fitted["sm"][j], levels[j][0]))
                / pinball(y, design @ fitted["sm"][j], levels[j][0]) for j in pick)
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
    cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[])", (model, x0))
    curve = np.array(cur.fetchone()[0])
    u_grid = np.linspace(0, 1, len(curve))

    def round_trip():
        t0 = time.perf_counter()
        cur.execute("SELECT 1")
        cur.fetchone()
        return time.perf_counter() - t0

    def sampling_sf():
        # server-side time of the draws alone: generate, then count without shipping the array
        t0 = time.perf_counter()
        cur.execute("SELECT array_length(scfrisk.qrgmm_sample_array(%s, %s::float8[], %s, 1), 1)", (model, x0, K))
        cur.fetchone()
        return max(time.perf_counter() - t0 - round_trip(), 1e-9)

    def sampling_np():
        t0 = time.perf_counter()
        u = np.random.default_rng(1).random(K)
        np.interp(u, u_grid, curve)
        return time.perf_counter() - t0

    say("sampling.draws", K)
    times = bench.alternate({"scfrisk": sampling_sf, "numpy": sampling_np}, args.repeat)
    bench.report("sampling", times, "scfrisk", "numpy")
    say("sampling.scfrisk_draws_per_second", "%.3g" % (K / np.median(times["scfrisk"])))
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

bench.done()

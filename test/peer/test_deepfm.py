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
LINEAR_PARAMS = '{"m": 50}'


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

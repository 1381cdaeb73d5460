#!/usr/bin/python3
"""Benchmark of scfrisk.qrgmm_deepfm_train (issue 8) on the synthetic SCF sales law of
methods/qrgmm_scf.md section 8.2 (categorical interactions), in one run on the same data:

1. Fidelity at n = 20,000 training rows: mean Kolmogorov and Wasserstein-1 distances
   (y = log1p(S) scale) between each model's conditional law and the true one over 20
   fixed covariate profiles, and held-out mean pinball loss (levels 0.01..0.99) on 5,000
   rows, for QRGMM DeepFM against linear QRGMM (numeric fields plus one-hot main effects
   of the categorical fields, default m rule).  Goal: at least 30% lower distances.
   Also the same network with "refit": true (exact linear QRs on its learned features).
2. A PyTorch peer (Debian's python3-torch) with the same architecture (embeddings,
   first-order terms, FM term, ReLU MLP with dropout, multi-output head, the same
   initialisation rules), the same training rows, epochs, batch size, Adam settings and
   weight decay, no validation split and no unknown-id replacement: held-out pinball
   within 2% of it, and the training time ratio scfrisk / PyTorch at the same thread
   count (<= 1.0 means scfrisk is faster).  scfrisk's time is the aggregate query;
   PyTorch's the training loop over tensors already in memory.

The peer comparison runs scfrisk and PyTorch alternately `repeat` times (default 3) and
reports medians with their spread, under bench/benchlib.py's discipline (load before,
other processes' CPU during the run; NOISY figures exit 3).

Usage: /usr/bin/python3 bench/deepfm_bench.py [n_train] [epochs] [threads] [repeat]
with PG* variables pointing at a server that has scfrisk installed.
"""
import io
import os
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "pylib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scf_law import ScfLaw, linear_design, curve_distances  # noqa: E402
from benchlib import Bench  # noqa: E402

N_TRAIN = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
REPEAT = int(sys.argv[4]) if len(sys.argv) > 4 else 3
N_TEST = 5000
K, LAYERS, M, BATCH, LR, WD, DROPOUT = 8, [128, 64], 100, 256, 0.001, 1e-5, 0.1
TAUS = np.arange(1, 100) / 100.0

# fidelity run: early stopping on a validation share, as recommended
FIDELITY_PARAMS = ('{"k": %d, "layers": [128, 64], "m": %d, "epochs": 200, "batch_size": %d, '
                   '"learning_rate": %g, "weight_decay": %g, "dropout": %g, "patience": 20, '
                   '"threads": %d, "seed": 1}' % (K, M, BATCH, LR, WD, DROPOUT, THREADS))
# peer run: fixed epochs, no validation split, the same settings as the PyTorch loop
PEER_PARAMS = ('{"k": %d, "layers": [128, 64], "m": %d, "epochs": %d, "batch_size": %d, '
               '"learning_rate": %g, "weight_decay": %g, "dropout": %g, "patience": 0, "unknown_share": 0, '
               '"validation_share": 0, "threads": %d, "seed": 1}'
               % (K, M, EPOCHS, BATCH, LR, WD, DROPOUT, THREADS))


def fmt(v):
    return "{" + ",".join(repr(float(a)) if isinstance(a, (float, np.floating)) else str(int(a))
                          for a in v) + "}"


def load(cur, name, num, cat, s):
    X = linear_design(num, cat)
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (k int, num float8[], cat int[], x float8[], s float8)" % name)
    buf = io.StringIO("\n".join("%d\t%s\t%s\t%s\t%r" % (i, fmt(num[i]), fmt(cat[i]), fmt(X[i]), float(s[i]))
                                for i in range(len(s))))
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


def pinball(y, q):
    r = y[:, None] - q
    return float(np.mean(np.where(r >= 0, TAUS * r, (TAUS - 1) * r)))


def sql_pinball(cur, model, cov, y):
    cur.execute("SELECT scfrisk.qrgmm_quantiles(%%s, %s, %%s::float8[]) FROM te ORDER BY k" % cov,
                (psycopg2.Binary(model), "{" + ",".join("%.2f" % t for t in TAUS) + "}"))
    return pinball(y, np.log1p(np.array([r[0] for r in cur.fetchall()])))


def distances(cur, law, model, deepfm):
    pn, pc = law.profiles(20)
    mu, sig = law.params(pn, pc)
    Xp = linear_design(pn, pc)
    ks, w1 = [], []
    for i in range(20):
        if deepfm:
            cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[], %s::int[])",
                        (psycopg2.Binary(model), fmt(pn[i]), fmt(pc[i])))
        else:
            cur.execute("SELECT scfrisk.qrgmm_curve(%s, %s::float8[])", (psycopg2.Binary(model), fmt(Xp[i])))
        a, b = curve_distances(law, np.array(cur.fetchone()[0]), mu[i], sig[i])
        ks.append(a)
        w1.append(b)
    return float(np.mean(ks)), float(np.mean(w1))


def torch_peer(num, cat, s, num_t, cat_t, s_t):
    """The same quantile DeepFM in PyTorch; returns (seconds, held-out pinball)."""
    import torch
    from torch import nn

    torch.manual_seed(1)
    torch.set_num_threads(THREADS)
    y = np.log1p(s)
    yc, ys = y.mean(), y.std()
    mean, sd = num.mean(0), num.std(0)
    vocabs = [np.unique(cat[:, j]) for j in range(cat.shape[1])]

    def encode(nm, ct):
        z = torch.tensor((nm - mean) / sd, dtype=torch.float32)
        idx = []
        for j, v in enumerate(vocabs):
            pos = np.searchsorted(v, ct[:, j])
            known = (pos < len(v)) & (v[np.minimum(pos, len(v) - 1)] == ct[:, j])
            idx.append(np.where(known, pos + 1, 0))
        return z, torch.tensor(np.column_stack(idx), dtype=torch.long)

    L = M - 1
    F = num.shape[1] + cat.shape[1]
    taus = torch.arange(1, M, dtype=torch.float32) / M

    class QDeepFM(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_v = nn.Parameter(torch.randn(num.shape[1], K) * 0.1)
            self.num_w = nn.Parameter(torch.zeros(num.shape[1]))
            self.cat_v = nn.ModuleList([nn.Embedding(len(v) + 1, K) for v in vocabs])
            self.cat_w = nn.ModuleList([nn.Embedding(len(v) + 1, 1) for v in vocabs])
            for e in self.cat_v:
                nn.init.normal_(e.weight, 0, 0.1)
            for e in self.cat_w:
                nn.init.zeros_(e.weight)
            mods, width = [], F * K
            for w in LAYERS:
                lin = nn.Linear(width, w)
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
                nn.init.zeros_(lin.bias)
                mods += [lin, nn.ReLU(), nn.Dropout(DROPOUT)]
                width = w
            self.mlp = nn.Sequential(*mods)
            self.head = nn.Linear(F + K + width, L)
            nn.init.xavier_uniform_(self.head.weight)

        def forward(self, z, c):
            e_num = z[:, :, None] * self.num_v[None]
            e_cat = torch.stack([emb(c[:, j]) for j, emb in enumerate(self.cat_v)], 1)
            E = torch.cat([e_num, e_cat], 1)
            y1 = torch.cat([z * self.num_w] + [w(c[:, j]) for j, w in enumerate(self.cat_w)], 1)
            sm = E.sum(1)
            y2 = 0.5 * (sm * sm - (E * E).sum(1))
            return self.head(torch.cat([y1, y2, self.mlp(E.flatten(1))], 1))

    z, c = encode(num, cat)
    yt = torch.tensor((y - yc) / ys, dtype=torch.float32)
    net = QDeepFM()
    with torch.no_grad():
        net.head.bias.copy_(torch.quantile(yt, taus))
    decay = [p for n_, p in net.named_parameters() if not n_.endswith("bias")]
    nodecay = [p for n_, p in net.named_parameters() if n_.endswith("bias")]
    opt = torch.optim.Adam([{"params": decay, "weight_decay": WD},
                            {"params": nodecay, "weight_decay": 0.0}], lr=LR)
    t0 = time.perf_counter()
    net.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(yt))
        for b in range(0, len(yt), BATCH):
            i = perm[b:b + BATCH]
            q = net(z[i], c[i])
            r = yt[i, None] - q
            loss = torch.mean(torch.maximum(taus * r, (taus - 1) * r))
            opt.zero_grad()
            loss.backward()
            opt.step()
    secs = time.perf_counter() - t0
    net.eval()
    zt, ctt = encode(num_t, cat_t)
    with torch.no_grad():
        qs = net(zt, ctt).numpy() * ys + yc
    qs.sort(axis=1)
    # evaluate on the same piecewise-linear curve with flat tails as scfrisk's
    u = np.arange(M + 1) / M
    knots = np.column_stack([qs[:, :1], qs, qs[:, -1:]])
    q_eval = np.array([np.interp(TAUS, u, kn) for kn in knots])
    return secs, pinball(np.log1p(s_t), q_eval)


def main():
    bench = Bench()
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SET scfrisk.threads = %d" % THREADS)
    law = ScfLaw()
    rng = np.random.default_rng(2026)
    num, cat = law.covariates(rng, N_TRAIN)
    s = law.sample(rng, num, cat)
    num_t, cat_t = law.covariates(rng, N_TEST)
    s_t = law.sample(rng, num_t, cat_t)
    load(cur, "tr", num, cat, s)
    load(cur, "te", num_t, cat_t, s_t)
    y_t = np.log1p(s_t)
    mu_t, sig_t = law.params(num_t, cat_t)
    pl_true = pinball(y_t, law.y_quantile(TAUS[None, :], mu_t[:, None], sig_t[:, None]))
    print("n_train %d, n_test %d, threads %d; truth's own held-out pinball %.5f"
          % (N_TRAIN, N_TEST, THREADS, pl_true))

    # 1. fidelity
    t0 = time.perf_counter()
    cur.execute("SELECT scfrisk.qrgmm_train(x, s, '{}') FROM tr")
    linear = cur.fetchone()[0]
    t_lin = time.perf_counter() - t0
    t0 = time.perf_counter()
    cur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr", (FIDELITY_PARAMS,))
    deepfm = cur.fetchone()[0]
    t_dfm = time.perf_counter() - t0
    cur.execute("SELECT scfrisk.model_info(%s)->'info'", (psycopg2.Binary(deepfm),))
    info = cur.fetchone()[0]
    ks_l, w1_l = distances(cur, law, linear, False)
    ks_d, w1_d = distances(cur, law, deepfm, True)
    pl_l = sql_pinball(cur, linear, "x", y_t)
    pl_d = sql_pinball(cur, deepfm, "num || cat::float8[]", y_t)
    print("fidelity  linear QRGMM: KS %.4f  W1 %.4f  pinball %.5f  (%.1f s)" % (ks_l, w1_l, pl_l, t_lin))
    print("fidelity  DeepFM:       KS %.4f  W1 %.4f  pinball %.5f  (%.1f s, %d epochs, best %d)"
          % (ks_d, w1_d, pl_d, t_dfm, info["epochs_run"], info["best_epoch"]))
    print("fidelity  DeepFM / linear: KS %.3f  W1 %.3f  (goal <= 0.70)  pinball %.4f"
          % (ks_d / ks_l, w1_d / w1_l, pl_d / pl_l))

    # 1b. the same network with the refit of exact linear QRs on its features
    t0 = time.perf_counter()
    cur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s::jsonb || '{\"refit\": true}') FROM tr",
                (FIDELITY_PARAMS,))
    refit = cur.fetchone()[0]
    t_ref = time.perf_counter() - t0
    cur.execute("SELECT scfrisk.model_info(%s)->'info'->'refit'", (psycopg2.Binary(refit),))
    rinfo = cur.fetchone()[0]
    ks_r, w1_r = distances(cur, law, refit, True)
    pl_r = sql_pinball(cur, refit, "num || cat::float8[]", y_t)
    print("fidelity  DeepFM+refit: KS %.4f  W1 %.4f  pinball %.5f  (%.1f s, refit m %d on %d features)"
          % (ks_r, w1_r, pl_r, t_ref, rinfo["m"], rinfo["features"]))
    print("fidelity  DeepFM+refit / linear: KS %.3f  W1 %.3f  pinball %.4f"
          % (ks_r / ks_l, w1_r / w1_l, pl_r / pl_l))

    # 2. PyTorch peer, fixed epochs, the two sides alternately
    try:
        import torch  # noqa: F401
    except ImportError:
        print("peer      PyTorch not installed (apt-get install -y python3-torch): skipped")
        bench.done()
        return
    got = {}

    def train_sf():
        t0 = time.perf_counter()
        cur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, s, %s) FROM tr", (PEER_PARAMS,))
        got["sf"] = cur.fetchone()[0]
        return time.perf_counter() - t0

    def train_pt():
        secs, got["pt"] = torch_peer(num, cat, s, num_t, cat_t, s_t)
        return secs

    times = bench.alternate({"scfrisk": train_sf, "pytorch": train_pt}, REPEAT)
    pl_sf = sql_pinball(cur, got["sf"], "num || cat::float8[]", y_t)
    pl_pt = got["pt"]
    print("peer      %d epochs: pinball scfrisk %.5f | PyTorch %.5f: scfrisk / PyTorch %.4f (goal within 2%%)"
          % (EPOCHS, pl_sf, pl_pt, pl_sf / pl_pt))
    bench.report("peer_train", times, "scfrisk", "pytorch")
    bench.done()


if __name__ == "__main__":
    main()

"""One (category, marketplace) segment of the section 8.2 sales law, where
linear quantile regression is correctly specified, with its closed-form risk
truths (methods/qrgmm_scf.md section 8.2), for the risk test and bench:

    log S = mu(x) + sig(x) eps
    mu    = 0.9 h + C0 + 0.25 (rt - 4.25) 1{a > 2} + 0.15 sin(2 pi month / 12)
    sig   = S0 + 0.1 1{a <= 2}

with eps ~ N(0, 1) (lognormal) or eps = T_5 sqrt(3/5) (heavy tail).  The
covariates handed to qrgmm_train are [h, 1{a > 2}, (rt - 4.25) 1{a > 2},
sin(2 pi month / 12)].
"""
import io

import numpy as np
from scipy import stats

C0, S0 = 0.6, 0.31

# three covariate profiles: a typical seller, a young one (larger scale), a large one
PROFILES = np.array([[10.0, 1.0, 0.2, 0.5], [9.5, 0.0, 0.0, -0.8], [10.8, 1.0, -0.5, 0.0]])


def covariates(rng, n):
    h = rng.normal(10, 1, n)
    a = rng.uniform(0.5, 8, n)
    rt = rng.uniform(3.5, 5, n)
    month = rng.integers(1, 13, n)
    ind = (a > 2).astype(float)
    return np.column_stack([h, ind, (rt - 4.25) * ind, np.sin(2 * np.pi * month / 12)])


def mu_sig(X):
    mu = 0.9 * X[:, 0] + C0 + 0.25 * X[:, 2] + 0.15 * X[:, 3]
    sig = S0 + 0.1 * (1 - X[:, 1])
    return mu, sig


class Law:
    """Standardised noise eps: normal, or T_5 scaled to unit variance."""

    def __init__(self, heavy):
        self.heavy = heavy
        self.scale = np.sqrt(3 / 5) if heavy else 1.0
        self.name = "heavy tail (T5)" if heavy else "lognormal"

    def draw(self, rng, n):
        return rng.standard_t(5, n) * self.scale if self.heavy else rng.standard_normal(n)

    def cdf(self, z):
        return stats.t.cdf(z / self.scale, 5) if self.heavy else stats.norm.cdf(z)

    def ppf(self, u):
        return stats.t.ppf(u, 5) * self.scale if self.heavy else stats.norm.ppf(u)

    def sample(self, rng, X):
        mu, sig = mu_sig(X)
        return np.exp(mu + sig * self.draw(rng, len(mu)))


def truth(law, mu, sig, s, level):
    """PD, EL, CVaR_level of the loss (s - S)^+ for S = exp(mu + sig eps)."""
    z = (np.log(s) - mu) / sig
    pd = law.cdf(z)
    P = min(pd, 1 - level)
    if not law.heavy:
        Mn = np.exp(mu + sig * sig / 2)
        el = s * pd - Mn * stats.norm.cdf(z - sig)
        cv = (s * P - (Mn * stats.norm.cdf(stats.norm.ppf(P) - sig) if P > 0 else 0)) / (1 - level)
        return pd, el, cv

    # EL = integral_0^s F_S(y) dy, on y = e^w (F decays like |w|^-5, e^w
    # exponentially, so 40 scale units below ln s leave nothing out); the
    # partial moment up to P is Q(P) P - EL(Q(P)).
    def el_at(x):
        w = np.log(x) - 40 * sig * law.scale * (1 - np.linspace(0, 1, 40001))
        f = law.cdf((w - mu) / sig) * np.exp(w)
        return float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(w)))
    el = el_at(s)
    sP = np.exp(mu + sig * law.ppf(P)) if P > 0 else 0.0
    i_p = sP * P - el_at(sP) if P > 0 else 0.0
    return pd, el, (s * P - i_p) / (1 - level)


def load(cur, name, X, y):
    """A table name(x float8[], y float8) with the rows of X and y, by COPY."""
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (x float8[], y float8)" % name)
    rows = "\n".join("{%s}\t%r" % (",".join(repr(float(v)) for v in X[i]), float(y[i]))
                     for i in range(len(y)))
    cur.copy_expert("COPY %s FROM STDIN" % name, io.StringIO(rows))


def loss_moments(law, mu, sig, c):
    """E[(c - S)^+] and E[((c - S)^+)^2] for S = exp(mu + sig eps): the
    integrals of F_S(y) and 2 (c - y) F_S(y) over y < c, on y = e^w as in
    truth()."""
    if c <= 0:
        return 0.0, 0.0
    w = np.log(c) - 40 * sig * law.scale * (1 - np.linspace(0, 1, 40001))
    y = np.exp(w)
    F = law.cdf((w - mu) / sig)
    trap = lambda f: float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(w)))  # noqa: E731
    return trap(F * y), trap(2 * (c - y) * F * y)


def oracle_sd(law, mu, sig, s, n, level):
    """Standard deviations of the empirical EL and CVaR_level of the loss
    (s - S)^+ from n independent draws of the true law at x: the floor of
    any estimator fitted on n rows.  EL is a mean of (s - S)^+; CVaR is
    (1/p) times the mean of (min(s, Q(p)) - S)^+ with p = 1 - level (the
    influence function of the lower-tail mean)."""
    m1, m2 = loss_moments(law, mu, sig, s)
    p = 1 - level
    c = min(s, np.exp(mu + sig * law.ppf(p)))
    c1, c2 = loss_moments(law, mu, sig, c)
    return np.sqrt(max(m2 - m1 * m1, 0) / n), np.sqrt(max(c2 - c1 * c1, 0) / n) / p


def leverage(X, x0):
    """x0' (D'D / n)^-1 x0 for the design D = [1, X]: how much more a linear
    regression's estimate at x0 varies than a mean of the same n rows at x0."""
    D = np.column_stack([np.ones(len(X)), X])
    v = np.concatenate([[1.0], x0])
    return float(v @ np.linalg.solve(D.T @ D / len(X), v))


def residual_oracle(X, y, x0, dues, level):
    """The issue-16 oracle: it knows the true location-scale model mu(x),
    sig(x) and nothing else, so it standardises the n training residuals
    e_i = (ln y_i - mu(x_i)) / sig(x_i) and reads the law at x0 as the n
    points exp(mu(x0) + sig(x0) e_i).  Its EL and CVaR_level at each due
    (sales threshold) are the sample-path formulas on those points: the best
    a nonparametric method can do with the tail of this sample.  Returns an
    array (len(dues), 2) of EL, CVaR."""
    mu, sig = mu_sig(X)
    e = np.sort((np.log(y) - mu) / sig)
    m0, s0 = mu_sig(np.asarray(x0, dtype=float)[None, :])
    S = np.exp(m0[0] + s0[0] * e)
    n = len(S)
    kk = max(1, int(np.ceil((1 - level) * n - 1e-9)))
    out = []
    for d in dues:
        loss = np.maximum(d - S, 0)
        out.append((loss.mean(), loss[:kk].sum() / kk))
    return np.array(out)

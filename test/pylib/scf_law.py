"""The synthetic SCF sales law of methods/qrgmm_scf.md section 8.2, with its
closed-form conditional law, for the DeepFM peer test and bench.

Covariates: categorical cat ~ U{0..9}, mkt ~ U{0..4}, month ~ U{1..12};
numeric h ~ N(10, 1) (log past sales), a ~ U[0.5, 8] (age), rt ~ U[3.5, 5]
(rating), v = exp(h + N(-0.5, 0.3)) (in-transit value).  Fixed seeded tables
A_cat ~ N(0, 0.3), A_mkt ~ N(0, 0.2), A_cm ~ N(0, 0.25) (10 x 5 interaction),
A_mon = 0.15 sin(2 pi month / 12).

    mu  = 0.9 h + A_cat + A_mkt + A_cm[cat, mkt] + A_mon + 0.25 (rt - 4.25) 1{a > 2} + 0.5
    sig = 0.25 + 0.15 |A_cm[cat, mkt]| / 0.25 + 0.1 1{a <= 2}
    S   = exp(mu + sig eps), eps ~ N(0, 1)

So log S given x is N(mu, sig^2): the location and the scale both depend on
the category x market interaction, which main effects cannot express.
"""
import numpy as np
from scipy import stats

TABLE_SEED = 20260801


class ScfLaw:
    def __init__(self, table_seed=TABLE_SEED):
        r = np.random.default_rng(table_seed)
        self.A_cat = r.normal(0, 0.3, 10)
        self.A_mkt = r.normal(0, 0.2, 5)
        self.A_cm = r.normal(0, 0.25, (10, 5))

    def covariates(self, rng, n):
        """numeric (n, 4) = [h, a, rt, log v], categorical (n, 3) = [cat, mkt, month]."""
        cat = rng.integers(0, 10, n)
        mkt = rng.integers(0, 5, n)
        month = rng.integers(1, 13, n)
        h = rng.normal(10, 1, n)
        a = rng.uniform(0.5, 8, n)
        rt = rng.uniform(3.5, 5, n)
        logv = h + rng.normal(-0.5, 0.3, n)
        return np.column_stack([h, a, rt, logv]), np.column_stack([cat, mkt, month]).astype(int)

    def params(self, num, cat):
        """(mu, sig) of log S for each row."""
        h, a, rt = num[:, 0], num[:, 1], num[:, 2]
        c, k, mo = cat[:, 0], cat[:, 1], cat[:, 2]
        acm = self.A_cm[c, k]
        mu = (0.9 * h + self.A_cat[c] + self.A_mkt[k] + acm + 0.15 * np.sin(2 * np.pi * mo / 12)
              + 0.25 * (rt - 4.25) * (a > 2) + 0.5)
        sig = 0.25 + 0.15 * np.abs(acm) / 0.25 + 0.1 * (a <= 2)
        return mu, sig

    def sample(self, rng, num, cat):
        mu, sig = self.params(num, cat)
        return np.exp(mu + sig * rng.standard_normal(len(mu)))

    def profiles(self, n=20, seed=7):
        """n fixed covariate profiles (numeric, categorical)."""
        return self.covariates(np.random.default_rng(seed), n)

    def y_cdf(self, y, mu, sig):
        """True CDF of y = log1p(S) at y."""
        return stats.norm.cdf((np.log(np.expm1(y)) - mu) / sig)

    def y_quantile(self, u, mu, sig):
        """True quantile of y = log1p(S) at level u."""
        return np.log1p(np.exp(mu + sig * stats.norm.ppf(u)))


def linear_design(num, cat):
    """Covariates for linear QRGMM: the numeric fields and one-hot main effects
    of the categorical fields (first level dropped)."""
    cols = [num]
    for j, levels in enumerate((range(10), range(5), range(1, 13))):
        levels = list(levels)
        cols.append(np.column_stack([(cat[:, j] == v).astype(float) for v in levels[1:]]))
    return np.column_stack(cols)


def curve_distances(law, qa, mu, sig):
    """Kolmogorov and Wasserstein-1 distances (y = log1p(S) scale) between a
    QRGMM curve (knots qa[0..m] at u = j/m, piecewise linear) and the truth."""
    m = len(qa) - 1
    u_knots = np.arange(m + 1) / m
    # Kolmogorov: the curve's CDF is the inverse of the piecewise-linear Qhat;
    # evaluate both on a dense grid spanning both laws
    lo = min(qa[0], law.y_quantile(1e-4, mu, sig)) - 1e-9
    hi = max(qa[-1], law.y_quantile(1 - 1e-4, mu, sig)) + 1e-9
    ys = np.linspace(lo, hi, 20001)
    # left limit P(Y < y): with flat tails the first and last knots are atoms
    F_hat = np.interp(ys, qa, u_knots, left=0.0, right=1.0)
    F_hat = np.where(ys <= qa[0], 0.0, F_hat)
    F_hat = np.where(ys > qa[-1], 1.0, F_hat)
    ks = float(np.max(np.abs(F_hat - law.y_cdf(ys, mu, sig))))
    # also at the atoms themselves (right limits)
    ks = max(ks, abs(1.0 / m - law.y_cdf(qa[0], mu, sig)), abs(1 - 1.0 / m - law.y_cdf(qa[-1], mu, sig)))
    us = (np.arange(20000) + 0.5) / 20000
    q_hat = np.interp(us, u_knots, qa)
    w1 = float(np.mean(np.abs(q_hat - law.y_quantile(us, mu, sig))))
    return ks, w1

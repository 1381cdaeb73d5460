"""The data set of the tree benchmarks (gbt_bench.py, gbt_perf.py, explain_bench.py,
baselines_bench.py): one generator and one loader.

gen(n, seed) draws P standard-normal features with a nonlinear logistic label and a share
`missing` of the values missing (NaN; 0 draws no mask, for kinds without missing values, and
leaves X and y as they are with it); load(cur, name, X, y) writes them to an unlogged table
(f float8[], y float8) with NULL for the missing values, by COPY in blocks of 100,000 rows, and
with ids=True an id column first (the row's index), without y no label column.
"""
import io

import numpy as np

P = 20


def gen(n, seed, missing=0.05):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P))
    z = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + np.abs(X[:, 3]) - 0.8 + 0.5 * X[:, 4]
         - 0.3 * X[:, 5] ** 2 + 0.6 * X[:, 6] * (X[:, 7] > 0) + 0.2 * X[:, 8])
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    if missing > 0:
        X[rng.random((n, P)) < missing] = np.nan
    return X, y


def load(cur, name, X, y=None, ids=False, vacuum=True):
    """Table name (id int when ids, f float8[], y float8 when y is given), NULL for NaN."""
    cols = (["id int"] if ids else []) + ["f float8[]"] + (["y float8"] if y is not None else [])
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE UNLOGGED TABLE %s (%s)" % (name, ", ".join(cols)))
    step = 100000
    for a in range(0, len(X), step):
        buf = io.StringIO()
        for i in range(a, min(a + step, len(X))):
            row = (["%d" % i] if ids else []) + \
                ["{%s}" % ",".join("NULL" if v != v else "%.17g" % v for v in X[i])]
            if y is not None:
                row.append("%d" % y[i])
            buf.write("\t".join(row) + "\n")
        buf.seek(0)
        cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute(("VACUUM ANALYZE %s" if vacuum else "ANALYZE %s") % name)

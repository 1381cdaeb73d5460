"""Every trainer takes "verbose": NOTICE lines of its progress (issue 18).

For each training aggregate (xgb_train, mlp_train, xgb_mlp_train,
logreg_train, qrgmm_train, qrgmm_deepfm_train), on one small table:

- with {"verbose": true} the session receives NOTICE lines naming the
  trainer and its step ("round", "epoch", "iteration", "level") as "k/n",
  the first report of each loop among them, the time elapsed, on every line
  but a loop's last an estimate of the time left, and as a loop's last line
  its last step (k = n, or "done" when it stopped early); the losses where
  the loop has one (all but QRGMM's levels);
- the rate is readable: at most one line per second of the reported elapsed
  time, plus the first and last step of each loop (the test reads the times
  off the lines themselves, it times nothing);
- without verbose no line is sent;
- verbose is a run-time switch, not a hyperparameter: the model's bytes are
  the same with and without it, and model_info's params do not hold it
  (xgb_train keeps its own stored verbose and verbose_every, as before);
- qrgmm_train with scfrisk.threads = 2 reports its levels from the calling
  thread while the workers fit them, and gives the same bytes.
"""
import collections
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

SETUP = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
DROP TABLE IF EXISTS vb;
CREATE TABLE vb AS
SELECT i, ARRAY[((i * 7919) % 1000) / 1000.0, ((i * 104729) % 997) / 997.0,
                ((i * 1299709) % 991) / 991.0]::float8[] AS features,
       ARRAY[i % 4, i % 3]::int[] AS cat, 0::float8 AS label, 0::float8 AS y
FROM generate_series(1, 1500) AS i;
UPDATE vb SET label = (features[1] * 2 - features[2] + 0.5 * features[3]
                       + ((i * 31) % 100) / 100.0 > 1.2)::int,
              y = 10 + 3 * features[1] - features[2] + cat[1] + ((i * 7) % 50) / 25.0;
"""

# (trainer, aggregate call with %s for the params, step names expected, losses expected);
# the MLP's linear skip starts at logistic regression (its Newton iterations
# are reported), and its refit runs the epochs again; the hybrid's default blend
# also trains a random forest part (its trees, without a loss)
TRAINERS = [
    ("xgb_train", "scfrisk.xgb_train(features, label, %s)", '{"n_estimators": 30}', None, True),
    ("mlp_train", "scfrisk.mlp_train(features, label, %s)",
     '{"hidden": [16], "epochs": 40, "seed": 1}', {"iteration", "epoch"}, True),
    ("xgb_mlp_train", "scfrisk.xgb_mlp_train(features, label, %s)",
     '{"threshold": 0.01, "xgb": {"n_estimators": 20}, "mlp": {"hidden": [8], "epochs": 20}}',
     {"round", "iteration", "epoch", "tree"}, True),
    ("logreg_train", "scfrisk.logreg_train(features, label, %s)", '{"C": 1}', {"iteration"}, True),
    ("qrgmm_train", "scfrisk.qrgmm_train(features, y, %s)", '{"m": 40}', {"level"}, False),
    ("qrgmm_deepfm_train", "scfrisk.qrgmm_deepfm_train(features, cat, y, %s)",
     '{"k": 4, "layers": [8], "m": 10, "epochs": 15, "seed": 1}', {"epoch"}, True),
    ("tree_train", "scfrisk.tree_train(features, label, %s)", '{"max_depth": 4}', {"tree"}, False),
    ("rf_train", "scfrisk.rf_train(features, label, %s)", '{"n_estimators": 30}', {"tree"}, False),
    ("nb_train", "scfrisk.nb_train(features, label, %s)", '{"var_smoothing": 1e-9}', {"pass"}, False),
    ("svm_train", "scfrisk.svm_train(features, label, %s)", '{"C": 1}', {"pass"}, False),
    ("knn_train", "scfrisk.knn_train(features, label, %s)", '{"k": 5}', {"pass"}, False),
]

LINE = re.compile(r"^NOTICE:\s+(\w+): (\w+) (\d+)/(\d+)(.*), ([0-9.]+) s elapsed"
                  r"(, (about|at most) ([0-9.]+) s left|, done)?\s*$")


def with_verbose(params, on):
    return params[:-1] + ', "verbose": %s}' % ("true" if on else "false")


def main():
    t = Tap()
    c = psycopg2.connect("")
    c.autocommit = True
    # psycopg2 keeps the last 50 notices of a list; the hybrid's blend sends more
    c.notices = collections.deque()
    cur = c.cursor()
    cur.execute(SETUP)
    serial_md5 = None
    for name, call, params, steps, losses in TRAINERS:
        runs = {}
        for on in (False, True):
            c.notices.clear()
            cur.execute("SELECT md5(m), scfrisk.model_info(m) -> 'params' FROM (SELECT %s AS m FROM vb) s"
                        % (call % "%s"), (with_verbose(params, on),))
            md5, p = cur.fetchone()
            runs[on] = (md5, p, [n.strip() for n in c.notices if n.startswith("NOTICE")])
        quiet, loud = runs[False][2], runs[True][2]
        t.ok(not quiet, "%s without verbose sends no NOTICE" % name, "\n".join(quiet[:5]))
        if steps is None:
            # xgb_train: its own stored verbose, a line every verbose_every rounds
            t.ok(len(loud) >= 3 and all(l.startswith("NOTICE:  xgb_train: round ") for l in loud),
                 "xgb_train with verbose reports its rounds", "\n".join(loud[:5]))
            continue
        parsed = [LINE.match(l) for l in loud]
        t.ok(loud and all(parsed) and all(m.group(1) == name for m in parsed)
             and {m.group(2) for m in parsed} == steps,
             "%s with verbose: NOTICE lines '%s: <%s> k/n ..., s elapsed'" % (name, name, "|".join(sorted(steps))),
             "\n".join(loud[:8]))
        if not (loud and all(parsed)):
            continue
        # a loop: consecutive lines of one step name with rising step numbers
        # (the MLP's refit starts its epochs again)
        runs_of = []
        for m in parsed:
            if (not runs_of or runs_of[-1][-1].group(2) != m.group(2)
                    or int(m.group(3)) <= int(runs_of[-1][-1].group(3))):
                runs_of.append([])
            runs_of[-1].append(m)
        loops = {"%s#%d" % (ms[0].group(2), i): ms for i, ms in enumerate(runs_of)}
        # the first report of a loop is shown (QRGMM reports its levels by chains)
        # (QRGMM reports its levels by chains, a forest its trees by batches of the pool)
        firsts = all(ms[0].group(3) == "1" or ((k.startswith("level") or k.startswith("tree"))
                                              and int(ms[0].group(3)) <= int(ms[0].group(4)))
                     for k, ms in loops.items())
        left = all("left" in (m.group(7) or "") for ms in loops.values() for m in ms[:-1])
        last = all(ms[-1].group(3) == ms[-1].group(4) or ms[-1].group(7) == ", done" for ms in loops.values())
        t.ok(firsts and left and last, "%s: each loop's first report shown, time left on every line "
             "but its last, which is the last step or says done" % name, "\n".join(loud[:8]))
        # a forest's trees have no loss: the hybrid's blend reports its forest part's trees
        lossy = [m for m in parsed if not (losses and m.group(2) == "tree")]
        has_loss = all(("loss" in m.group(5) or "objective" in m.group(5) or "logloss" in m.group(5))
                       for m in lossy)
        t.ok(has_loss == losses, "%s: %s" % (name, "every line has the loss" if losses
                                              else "no loss (exact solutions, trees, or one pass)"),
             "\n".join(loud[:4]))
        # readable rate: per loop at most first + last + one per elapsed second
        rate_ok = all(len(ms) <= 2 + int(float(ms[-1].group(6))) + 1 for ms in loops.values())
        t.ok(rate_ok, "%s: at most about one line a second (%d lines)" % (name, len(loud)), "\n".join(loud[:20]))
        t.ok(runs[True][0] == runs[False][0], "%s: the same model bytes with and without verbose" % name,
             "%s vs %s" % (runs[True][0], runs[False][0]))
        t.ok("verbose" not in json_keys(runs[True][1]), "%s: verbose is not stored in the model's params" % name,
             str(runs[True][1])[:500])
        if name == "qrgmm_train":
            serial_md5 = runs[True][0]
    # QRGMM's levels on worker threads: the calling thread reports while they run
    cur.execute("SET scfrisk.threads = 2")
    c.notices.clear()
    cur.execute("SELECT md5(scfrisk.qrgmm_train(features, y, %s)) FROM vb", ('{"m": 40, "verbose": true}',))
    md5 = cur.fetchone()[0]
    lines = [n.strip() for n in c.notices if n.startswith("NOTICE")]
    parsed = [LINE.match(l) for l in lines]
    t.ok(lines and all(parsed) and parsed[-1].group(3) == parsed[-1].group(4) and md5 == serial_md5,
         "qrgmm_train verbose with scfrisk.threads = 2: level lines up to the last, the same bytes",
         "\n".join(lines[:8]))
    cur.execute("RESET scfrisk.threads")
    t.done()


def json_keys(p):
    """Top-level and nested "mlp" keys of a params object (the hybrid's xgb keeps its own)."""
    keys = set(p.keys())
    if isinstance(p.get("mlp"), dict):
        keys |= set(p["mlp"].keys())
    return keys


if __name__ == "__main__":
    main()

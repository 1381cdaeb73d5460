#!/usr/bin/env bash
# Instruction counts of TreeSHAP per explained row, reference walk vs the
# precomputed tables, on the model of bench/explain_bench.py.
#
#   bench/treeshap_count.sh [ROWS] [TRAIN_ROWS] [ROUNDS]     (defaults 200 100000 100)
#
# xgboost 1.7 (Debian's python3-xgboost) trains the benchmark's booster
# (hist, max_depth 6, eta 0.1, max_bin 256, 20 features, 5% missing) and
# saves its JSON; bench/treeshap_count.c imports it with gbt_from_xgb_json,
# builds with the server build's optimisation flags, and valgrind's
# callgrind counts the instructions of sf_treeshap (reference),
# sf_treeshap_plan_run (tables) and sf_treeshap_plan_build (once per model).
# Instruction counts do not move with the machine's load, unlike times.
# Not a *_bench script: bench/run.sh (make bench) leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-200}
out=${TMPDIR:-/tmp}/treeshap_count.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out/model.json" "${2:-100000}" "${3:-100}" <<'PY'
import sys
import numpy as np
import xgboost as xgb
path, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
X = rng.normal(size=(n, 20))
z = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + np.abs(X[:, 3]) - 0.8 + 0.5 * X[:, 4]
     - 0.3 * X[:, 5] ** 2 + 0.6 * X[:, 6] * (X[:, 7] > 0) + 0.2 * X[:, 8])
y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
X[rng.random((n, 20)) < 0.05] = np.nan
bst = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1,
                 "max_bin": 256, "nthread": 2, "seed": 1},
                xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=rounds)
open(path, "wb").write(bst.save_raw("json"))
PY
srcs="src/core/core.c src/core/container.c src/core/codec.c src/core/params.c src/core/rng.c src/core/pool.c
	src/trees/gbt.c src/trees/gbt_codec.c src/trees/gbt_json.c src/trees/gbt_fast.c src/trees/gbt_metric.c
	src/explain/treeshap.c src/explain/treeshap_plan.c"
cc -std=c11 -D_GNU_SOURCE -O2 -g -fno-strict-aliasing -fwrapv -fexcess-precision=standard \
	-ffunction-sections -Wl,--gc-sections -Iinclude -o "$out/bench" bench/treeshap_count.c $srcs -lpthread -lm
"$out/bench" "$out/model.json" "$rows" both
for mode in ref plan; do
	valgrind --tool=callgrind --callgrind-out-file="$out/cg.$mode" "$out/bench" "$out/model.json" "$rows" "$mode" \
		>/dev/null 2>&1
	callgrind_annotate --inclusive=yes "$out/cg.$mode" 2>/dev/null |
		awk -v rows="$rows" -v mode="$mode" '
			/:sf_treeshap_plan_build \[/ { gsub(",", "", $1); printf "%s: sf_treeshap_plan_build %d instructions (once per model)\n", mode, $1 }
			/:sf_treeshap_plan_run \[/ { gsub(",", "", $1); printf "%s: sf_treeshap_plan_run %.0f instructions per row\n", mode, $1 / rows }
			/:sf_treeshap \[/ { gsub(",", "", $1); printf "%s: sf_treeshap %.0f instructions per row\n", mode, $1 / rows }'
done

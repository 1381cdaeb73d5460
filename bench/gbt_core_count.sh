#!/usr/bin/env bash
# Instruction counts of the tree core on the shape of bench/gbt_bench.py.
#
#   bench/gbt_core_count.sh [ROWS] [ROUNDS] [THREADS] [DRIFT]   (defaults 20000 20 2 0)
#
# DRIFT 1 or 2 adds the drift section's work, the old way or from what the
# trainer kept (bench/gbt_core_count.c).
#
# Builds bench/gbt_core_count.c against the cores with the server build's
# optimisation flags (-O2 -fno-strict-aliasing -fwrapv, as PGXS compiles
# them), prints the model fingerprint of a plain run, then runs it under
# valgrind's callgrind and prints the total instructions (Ir) and the
# functions with the most.  Instruction counts do not move with the load of
# the machine, unlike times.  Not a *_bench script: bench/run.sh (make bench)
# leaves it out, valgrind takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${TMPDIR:-/tmp}/gbt_core_count.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
# the tree core and what it needs of src/core (gbt_json.c, the encoder, is left out)
srcs="src/core/core.c src/core/pool.c src/core/rng.c src/core/params.c src/core/container.c
	src/trees/gbt.c src/trees/gbt_hist.c src/trees/gbt_split.c src/trees/gbt_grow.c
	src/trees/gbt_train.c src/trees/gbt_metric.c src/trees/gbt_fast.c src/trees/gbt_fast_bins.c
	src/governance/drift.c src/governance/drift_trees.c src/governance/calibrate.c src/governance/calibrate_cv.c"
cc -std=c11 -D_GNU_SOURCE -O2 -g -fno-strict-aliasing -fwrapv -fexcess-precision=standard \
	-ffunction-sections -Wl,--gc-sections -Iinclude -o "$out/bench" bench/gbt_core_count.c $srcs -lpthread -lm
"$out/bench" "${1:-20000}" "${2:-20}" "${3:-2}" "${4:-0}"
valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$out/bench" "${1:-20000}" "${2:-20}" "${3:-2}" "${4:-0}" \
	2>&1 | grep -E "Collected" || true
callgrind_annotate "$out/cg" 2>/dev/null | sed -n '/Ir/,$p' | head -25

#!/usr/bin/env bash
# Run every scfrisk test layer and print one summary line "N passed, N failed".
#
#   scripts/test.sh            setup, build, then all layers
#
# Layers: the cores compiled without PostgreSQL headers; C unit tests of the
# cores (ASan/UBSan); libFuzzer targets run briefly (FUZZ_SECONDS each,
# default 5); then on a throwaway cluster (scripts/cluster.sh): pg_regress,
# pgTAP suites through pg_prove, and the Python peer and multi-session tests
# (test/peer, test/session), the security layer (test/security) and the docs
# layer (test/docs) with Debian's python3.  Every check counts: TAP
# lines of unit, pgTAP and Python tests, one per pg_regress test, one per fuzz
# target, one per build step.  Exits non-zero when anything failed.
set -uo pipefail
# PostgreSQL 15 explicitly, even where other major versions are installed.
if [ -z "${PG_CONFIG:-}" ] && [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
	export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/build/test"
COUNTS="$OUT/counts"
PY=/usr/bin/python3
# builds, fuzz targets and the peer tests use every core (CI has two)
JOBS=$(nproc 2>/dev/null || echo 2)

if [ "${1:-}" != "--server-layers" ]; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
	: >"$COUNTS"
fi

pass() { echo "pass $1" >>"$COUNTS"; }
fail() { echo "fail $1" >>"$COUNTS"; echo "FAILED: $1"; }

# Count the TAP lines of a log: "ok" passes, "not ok" fails ("# SKIP" passes).
count_tap() {
	local log=$1 what=$2 p f
	p=$(grep -cE '^[[:space:]]*ok [0-9]+' "$log")
	f=$(grep -cE '^[[:space:]]*not ok [0-9]+' "$log")
	for ((i = 0; i < p; i++)); do echo "pass $what" >>"$COUNTS"; done
	for ((i = 0; i < f; i++)); do echo "fail $what" >>"$COUNTS"; done
	[ "$f" -eq 0 ] || { echo "FAILED: $f checks in $what:"; grep -E -A3 '^[[:space:]]*not ok' "$log" | head -40; }
	echo "$p"
}

server_layers() {
	# pg_regress: one count per test
	echo "== pg_regress"
	make -s installcheck >"$OUT/regress.log" 2>&1
	rc=$?
	local p f
	p=$(grep -cE '^(test | +)?[[:alnum:]_]+ +\.\.\. ok' "$OUT/regress.log")
	f=$(grep -cE '\.\.\. FAILED' "$OUT/regress.log")
	for ((i = 0; i < p; i++)); do pass regress; done
	for ((i = 0; i < f; i++)); do fail regress; done
	if [ $rc -ne 0 ]; then
		[ "$f" -gt 0 ] || fail "pg_regress exited $rc"
		cat "$OUT/regress.log"
		[ -f regression.diffs ] && head -200 regression.diffs
	fi
	echo "   $p passed, $f failed"

	# pgTAP through pg_prove, in a database of its own
	echo "== pgTAP"
	if ls test/pgtap/*.sql >/dev/null 2>&1; then
		createdb scfrisk_tap
		PGDATABASE=scfrisk_tap pg_prove -v test/pgtap/*.sql >"$OUT/pgtap.log" 2>&1
		rc=$?
		n=$(count_tap "$OUT/pgtap.log" pgtap)
		if [ $rc -ne 0 ]; then fail "pg_prove exited $rc"; tail -30 "$OUT/pgtap.log"; fi
		echo "   $n passed"
	fi

	# Security layer: reproductions of every security finding and a walk of
	# every documented role (reader, trainer, owner, PUBLIC) trying to cross
	# its boundary; pgTAP suites in a database of their own, then Python ones.
	echo "== security"
	if ls test/security/*.sql >/dev/null 2>&1; then
		createdb scfrisk_security
		PGDATABASE=scfrisk_security pg_prove -v test/security/*.sql >"$OUT/security.log" 2>&1
		rc=$?
		n=$(count_tap "$OUT/security.log" security)
		if [ $rc -ne 0 ]; then fail "pg_prove (security) exited $rc"; tail -30 "$OUT/security.log"; fi
		echo "   $n passed"
	fi

	# Python peer, multi-session, security and docs tests, each in a fresh
	# database (the docs layer runs every sql block of README.md and docs/).
	# The peer tests only compute and compare, so they run in JOBS lanes
	# side by side; the session, security and docs tests watch other
	# sessions, waits and timings, so they run one at a time.
	local peers=(test/peer/test_*.py) lane
	for ((lane = 0; lane < JOBS; lane++)); do
		(
			for ((i = lane; i < ${#peers[@]}; i += JOBS)); do
				[ -f "${peers[i]}" ] && run_python "${peers[i]}"
			done
		) &
	done
	wait
	for t in "${peers[@]}"; do
		[ -f "$t" ] && report_python "$t"
	done
	for t in test/session/test_*.py test/security/test_*.py test/docs/test_*.py; do
		[ -f "$t" ] || continue
		run_python "$t"
		report_python "$t"
	done
}

# One Python test file in a database of its own: its log, exit status and
# seconds in build/test/<name>.{log,rc,secs}; report_python counts its TAP
# lines (one at a time, in a fixed order, whatever ran in parallel).
run_python() {
	local t=$1 name start
	name=$(basename "$t" .py)
	createdb "t_${name}"
	start=$(date +%s)
	PGDATABASE="t_${name}" timeout 600 "$PY" "$t" >"$OUT/$name.log" 2>&1
	echo $? >"$OUT/$name.rc"
	echo $(($(date +%s) - start)) >"$OUT/$name.secs"
}

report_python() {
	local t=$1 name n rc
	name=$(basename "$t" .py)
	echo "== $t"
	n=$(count_tap "$OUT/$name.log" "$name")
	rc=$(cat "$OUT/$name.rc")
	if [ "$rc" != 0 ]; then fail "$t exited $rc"; tail -30 "$OUT/$name.log"; fi
	echo "   $n passed ($(cat "$OUT/$name.secs") s)"
}

if [ "${1:-}" = "--server-layers" ]; then
	server_layers
	exit 0
fi

echo "== setup"
if [ "${SCFRISK_SKIP_SETUP:-}" != 1 ]; then
	scripts/setup.sh || { fail "setup"; }
fi

echo "== build (warnings are errors)"
if scripts/build.sh -j"$JOBS" >"$OUT/build.log" 2>&1; then pass build; else fail build; cat "$OUT/build.log"; fi
if make -s NO_BLAS=1 WERROR=1 cores >"$OUT/cores.log" 2>&1 && make -s WERROR=1 cores >>"$OUT/cores.log" 2>&1; then
	pass "cores without PostgreSQL headers"
else
	fail "cores without PostgreSQL headers"; cat "$OUT/cores.log"
fi

# The whole extension also builds without OpenBLAS (plain-C kernels), in a
# copy of the tree so the installed build is untouched.
rm -rf build/noblas && mkdir -p build/noblas
git ls-files -z --cached --others --exclude-standard | grep -zv '^build/' | xargs -0 cp --parents -t build/noblas 2>/dev/null
if make -s -j"$JOBS" -C build/noblas NO_BLAS=1 WERROR=1 >"$OUT/noblas.log" 2>&1; then
	pass "build without BLAS (NO_BLAS=1)"
else
	fail "build without BLAS (NO_BLAS=1)"; tail -30 "$OUT/noblas.log"
fi

echo "== unit"
make -s -j"$JOBS" unit >"$OUT/unit.log" 2>&1
rc=$?
n=$(count_tap "$OUT/unit.log" unit)
if [ $rc -ne 0 ] && ! grep -qE '^[[:space:]]*not ok' "$OUT/unit.log"; then
	fail "unit build or run (exit $rc)"; tail -40 "$OUT/unit.log"
fi
echo "   $n passed"

echo "== fuzz (${FUZZ_SECONDS:-5} s per target)"
fuzz_one() {
	local bin=$1 name corpus
	name=$(basename "$bin")
	corpus="build/fuzz-corpus/$name"
	mkdir -p "$corpus"
	[ -d "test/fuzz/corpus/$name" ] && cp -r "test/fuzz/corpus/$name/." "$corpus/"
	"$bin" -max_total_time="${FUZZ_SECONDS:-5}" -rss_limit_mb=2048 -timeout=10 \
		"$corpus" >"$OUT/$name.log" 2>&1
	echo $? >"$OUT/$name.rc"
}
if make -s -j"$JOBS" fuzz >"$OUT/fuzz-build.log" 2>&1; then
	# the targets run JOBS at a time; results are reported in name order
	bins=()
	for bin in build/fuzz/*; do
		[ -f "$bin" ] && [ -x "$bin" ] && bins+=("$bin")
	done
	for ((i = 0; i < ${#bins[@]}; i += JOBS)); do
		for bin in "${bins[@]:i:JOBS}"; do fuzz_one "$bin" & done
		wait
	done
	for bin in "${bins[@]}"; do
		name=$(basename "$bin")
		if [ "$(cat "$OUT/$name.rc")" = 0 ]; then
			pass "fuzz $name"
			echo "   $name: $(grep -oE 'Done [0-9]+ runs' "$OUT/$name.log" | tail -1)"
		else
			fail "fuzz $name"; tail -40 "$OUT/$name.log"
		fi
	done
else
	fail "fuzz build"; cat "$OUT/fuzz-build.log"
fi

echo "== server layers (throwaway cluster)"
scripts/cluster.sh "$0" --server-layers || fail "cluster"

passed=$(grep -c '^pass' "$COUNTS")
failed=$(grep -c '^fail' "$COUNTS")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Install what scfrisk needs from Debian's packages, and nothing when all is
# there.  Run as root (or with sudo available).  Usage: scripts/setup.sh [--bench]
set -euo pipefail

PACKAGES=(
	make gcc libc6-dev                      # the build
	postgresql-15 postgresql-server-dev-15   # the server and its headers (PGXS)
	postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl   # pgTAP and pg_prove
	libopenblas-dev                          # BLAS
	clang libclang-rt-14-dev                 # libFuzzer, ASan, UBSan
	python3 python3-numpy python3-psycopg2   # test and benchmark drivers
	python3-xgboost python3-sklearn python3-statsmodels   # the peers
	postgresql-15-cron                       # registry: scheduled retraining test
	debhelper dpkg-dev fakeroot              # make deb (postgresql-15-scfrisk), its test
	gnuplot-nox                              # docs: risk-curve pictures
)
# bench-only, with "scripts/setup.sh --bench": the PyTorch peer of bench/deepfm_bench.py
[ "${1:-}" = "--bench" ] && PACKAGES+=(python3-torch)

missing=()
for p in "${PACKAGES[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "scfrisk setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

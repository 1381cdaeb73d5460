#!/usr/bin/env bash
# The README's main job: install what is missing, build, install, and run
# the scfrisk demo on a throwaway cluster.  With PGHOST, PGPORT or PGDATABASE
# set it runs against that server as it is: it installs no packages and runs
# no make install unless asked with --setup.  The demo steps:
# create the extension, load the German credit data, show what scfrisk
# offers, generate the synthetic seller data set, train the sales and credit
# models, size every loan, refresh the BI views and print a short risk report
# (scripts/demo_report.sql).  SCFRISK_DEMO_SELLERS (2000) and
# SCFRISK_DEMO_SEED (42) set the data size and seed.
set -euo pipefail
# PostgreSQL 15 explicitly, even where other major versions are installed.
if [ -z "${PG_CONFIG:-}" ] && [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
	export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

own_server=${PGHOST:-}${PGPORT:-}${PGDATABASE:-}
if [ "${1:-}" != "--inside" ]; then
	if [ -z "$own_server" ] || [ "${1:-}" = "--setup" ]; then
		step "setup (Debian packages, only what is missing)"
		scripts/setup.sh
		step "build and install"
		scripts/build.sh
	fi
	if [ -z "$own_server" ]; then
		SCFRISK_DEMO_THROWAWAY=1 exec scripts/cluster.sh "$0" --inside
	fi
fi

export PGDATABASE=${SCFRISK_DEMO_DB:-scfrisk_demo}
if ! psql -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'" | grep -q 1; then
	createdb "$PGDATABASE"
fi

step "create the extension"
psql -v ON_ERROR_STOP=1 -qc "CREATE EXTENSION IF NOT EXISTS scfrisk"
psql -Atc "SELECT 'scfrisk ' || (scfrisk.build_info() ->> 'version') || ', BLAS: ' || (scfrisk.build_info() ->> 'blas')"

step "load the German credit data (1,000 applicants, 61 features)"
scripts/load_german_credit.sh
psql -v ON_ERROR_STOP=1 -c "SELECT count(*) AS applicants, sum(label)::int AS defaults,
	round(avg(label)::numeric, 3) AS default_rate, max(cardinality(features)) AS features
	FROM german_credit"

step "what scfrisk offers (user-facing functions by concern; docs/index.md)"
psql -v ON_ERROR_STOP=1 -P pager=off -qf scripts/demo_offers.sql

SELLERS=${SCFRISK_DEMO_SELLERS:-2000}
step "generate the synthetic 3PL supply-chain-finance data ($SELLERS sellers, schema scfrisk_demo)"
psql -v ON_ERROR_STOP=1 -qAtc "SELECT scfrisk.generate_demo_data($SELLERS, ${SCFRISK_DEMO_SEED:-42})"

step "train the QRGMM sales model and the credit model, size every loan, refresh the views"
psql -v ON_ERROR_STOP=1 -qAtc "SELECT scfrisk_demo.refresh_risk()"

step "risk report (scripts/demo_report.sql)"
psql -v ON_ERROR_STOP=1 -P pager=off -f scripts/demo_report.sql

step "done"
echo "scfrisk demo finished: database $PGDATABASE, tables in schema scfrisk_demo," \
	"views scfrisk_demo.seller_risk and scfrisk_demo.seller_risk_curve$([ -z "${SCFRISK_DEMO_THROWAWAY:-}" ] || echo "; the throwaway cluster is removed now")."

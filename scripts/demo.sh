#!/usr/bin/env bash
# The README's main job: install what is missing, build, install, and run
# the scfrisk demo on a throwaway cluster (or on the server in PG* variables):
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

if [ "${1:-}" != "--inside" ]; then
	step "setup (Debian packages, only what is missing)"
	scripts/setup.sh
	step "build and install"
	scripts/build.sh
	exec scripts/cluster.sh "$0" --inside
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

step "what scfrisk offers"
psql -v ON_ERROR_STOP=1 -P pager=off -c "
	SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS function,
	       CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
	       obj_description(p.oid, 'pg_proc') AS what
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'scfrisk' AND obj_description(p.oid, 'pg_proc') IS NOT NULL
	ORDER BY 2, 1"

SELLERS=${SCFRISK_DEMO_SELLERS:-2000}
step "generate the synthetic 3PL supply-chain-finance data ($SELLERS sellers, schema scfrisk_demo)"
psql -v ON_ERROR_STOP=1 -qAtc "SELECT scfrisk.generate_demo_data($SELLERS, ${SCFRISK_DEMO_SEED:-42})"

step "train the QRGMM sales model and the credit model, size every loan, refresh the views"
psql -v ON_ERROR_STOP=1 -qAtc "SELECT scfrisk_demo.refresh_risk()"

step "risk report (scripts/demo_report.sql)"
psql -v ON_ERROR_STOP=1 -P pager=off -f scripts/demo_report.sql

#!/usr/bin/env bash
# Load data/german_credit.csv into table german_credit of the current
# database (PG* variables): one row per applicant with
#   id int, features float8[] (the 61 numeric columns in file order),
#   label float8 (1 = Bad, the default event), fold int (0..4, stratified by
#   label, for 5-fold cross-validation)
# and table german_credit_features (idx, name) naming the array elements.
# Usage: scripts/load_german_credit.sh [csv]
set -euo pipefail
cd "$(dirname "$0")/.."
csv=${1:-data/german_credit.csv}

header=$(head -n 1 "$csv" | tr -d '\r')
IFS=',' read -r -a cols <<<"$header"
defs=()
feats=()
names=()
for c in "${cols[@]}"; do
	if [ "$c" = "Class" ]; then
		defs+=("\"Class\" text")
	else
		defs+=("\"$c\" float8")
		feats+=("\"$c\"")
		names+=("('$c')")
	fi
done
joined_defs=$(IFS=','; echo "${defs[*]}")
joined_feats=$(IFS=','; echo "${feats[*]}")
joined_names=$(IFS=','; echo "${names[*]}")

psql -v ON_ERROR_STOP=1 -q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS german_credit_raw, german_credit, german_credit_features;
CREATE TABLE german_credit_raw ($joined_defs);
\copy german_credit_raw FROM '$csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE german_credit AS
SELECT row_number() OVER ()::int AS id,
       ARRAY[$joined_feats]::float8[] AS features,
       ("Class" = 'Bad')::int::float8 AS label
FROM german_credit_raw;
-- stratified folds: within each class, rows dealt round-robin in id order
ALTER TABLE german_credit ADD COLUMN fold int;
UPDATE german_credit g SET fold = s.fold
FROM (SELECT id, (row_number() OVER (PARTITION BY label ORDER BY id) - 1) % 5 AS fold
      FROM german_credit) s
WHERE s.id = g.id;
ALTER TABLE german_credit ADD PRIMARY KEY (id);
CREATE TABLE german_credit_features AS
SELECT (row_number() OVER ())::int AS idx, name
FROM (VALUES $joined_names) AS v(name);
DROP TABLE german_credit_raw;
ANALYZE german_credit;
SQL

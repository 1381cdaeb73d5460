#!/usr/bin/env bash
# Print the update script sql/scfrisk--A--B.sql (make builds it with this).
#
#   scripts/update_script.sh A--B
#
# Its parts, concatenated in the order of their file names:
#   - sql/update/A--B/*.sql: what changes objects that A already had (ALTER,
#     CREATE OR REPLACE of a changed function, a new column);
#   - the install fragments named in sql/update/A--B/new-objects, one a line:
#     fragments whose objects are all new in B, taken as they are, so the
#     update creates them with exactly the text a fresh install does;
#   - the install fragments named in sql/update/A--B/replace-objects (sort
#     name, fragment, optional marker; tab-separated): fragments whose
#     functions A already had, written with CREATE OR REPLACE (from the marker
#     line on), at their sort name's place.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="sql/update/$1"
[ -d "$dir" ] || { echo "update_script.sh: no folder $dir" >&2; exit 2; }
{
	for f in "$dir"/*.sql; do echo "$f"; done
	if [ -f "$dir/new-objects" ]; then
		grep -v '^[[:space:]]*\(#\|$\)' "$dir/new-objects" | while read -r name; do
			[ -f "sql/install/$name" ] || { echo "update_script.sh: $dir/new-objects names sql/install/$name, which does not exist" >&2; exit 2; }
			echo "sql/install/$name"
		done
	fi
} | awk -F/ '{print $NF "\t" $0}' | {
	cat
	# replace-objects: "sort-name<TAB>replace:fragment<TAB>marker"
	if [ -f "$dir/replace-objects" ]; then
		grep -v '^[[:space:]]*\(#\|$\)' "$dir/replace-objects" | while IFS=$'\t' read -r key name marker; do
			[ -f "sql/install/$name" ] || { echo "update_script.sh: $dir/replace-objects names sql/install/$name, which does not exist" >&2; exit 2; }
			printf '%s\treplace:%s\t%s\n' "$key" "$name" "$marker"
		done
	fi
} | LC_ALL=C sort -t$'\t' -k1,1 | while IFS=$'\t' read -r key part marker; do
	case "$part" in
	replace:*)
		name=${part#replace:}
		echo "-- sql/install/$name${marker:+ from \"$marker\"}, its functions replaced (replace-objects)"
		if [ -n "$marker" ]; then
			awk -v m="$marker" 'found || index($0, m) == 1 { found = 1; print }' "sql/install/$name"
		else
			cat "sql/install/$name"
		fi | sed -e 's/^CREATE FUNCTION /CREATE OR REPLACE FUNCTION /' -e 's/^CREATE PROCEDURE /CREATE OR REPLACE PROCEDURE /'
		;;
	*)
		cat "$part"
		;;
	esac
	echo
done

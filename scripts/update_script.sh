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
#     update creates them with exactly the text a fresh install does.
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
} | awk -F/ '{print $NF "\t" $0}' | sort -k1,1 | cut -f2 | while read -r part; do
	cat "$part"
	echo
done

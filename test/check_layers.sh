#!/usr/bin/env bash
# Check the layering of src/ (see doc/internals.md, "Architecture of src/").
#
# Layers, lowest first: model, ipc, store, exec, bgw.  A file may include
# headers of its own layer and of the layers below it, never of a layer
# above.  The top-level headers (compat.h, errors.h, guc.h) are
# infrastructure every layer may use; src/migrate.c (_PG_init) sits on top
# and may include anything.  model/ is pure: no SPI, no catalog or table
# access, so it may not include the server headers that provide them.
#
# Exits non-zero and names every offending include.
set -euo pipefail
cd "$(dirname "$0")/../src"

rank() {
	case "$1" in
		model) echo 0 ;; ipc) echo 1 ;; store) echo 2 ;; exec) echo 3 ;;
		bgw) echo 4 ;; *) echo -1 ;;
	esac
}

failures=0
for file in */*.[ch]; do
	layer=${file%%/*}
	mine=$(rank "$layer")
	if [ "$mine" -lt 0 ]; then
		echo "check_layers: $file is in no known layer" >&2
		failures=$((failures + 1))
		continue
	fi
	while IFS= read -r header; do
		[ -f "$header" ] || continue	# a server header, not ours
		case "$header" in
			compat.h|errors.h|guc.h) continue ;;
			*/*) ;;
			*) echo "check_layers: $file includes \"$header\", which is neither a layer's header nor compat.h, errors.h or guc.h" >&2
			   failures=$((failures + 1)); continue ;;
		esac
		theirs=$(rank "${header%%/*}")
		if [ "$theirs" -gt "$mine" ]; then
			echo "check_layers: $file ($layer) includes \"$header\" from a layer above it" >&2
			failures=$((failures + 1))
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
done

# top-level infrastructure must not reach into a layer either
for file in compat.[ch] guc.[ch] errors.h; do
	if sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file" | grep '/' |
		while read -r header; do [ -f "$header" ] && echo "$header"; done | grep -q .; then
		echo "check_layers: $file (infrastructure) includes a layer's header" >&2
		failures=$((failures + 1))
	fi
done

# the model is pure: no SPI, no catalog or table access
if grep -n 'SPI_\|table_open\|SearchSysCache\|executor/spi\.h\|access/table\.h' model/*.[ch]; then
	echo "check_layers: model/ must not run SQL or read catalogs" >&2
	failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then
	echo "check_layers: $failures violation(s)" >&2
	exit 1
fi
echo "check_layers: $(ls */*.[ch] | wc -l) files in 5 layers, no upward include"

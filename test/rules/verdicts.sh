#!/bin/sh
# verdicts.sh TOOL FILE...: one line per file, "accept FILE" or "reject FILE",
# as TOOL (promtool or promrun-rules) judges it.  Each tool runs once over
# all the files.
#
# promtool check rules prints "Checking FILE" and then SUCCESS, or FAILED and
# the errors; a FAILED whose only error is its duplicate-rules lint still
# exits 0 and counts as accepted (a warning).  promrun-rules reports in JSON
# lines; a file is rejected when it has a finding of level "error".
set -eu
tool=$1
shift
case "$tool" in
promtool)
	promtool check rules "$@" 2>&1 | LC_ALL=C awk '
		function flush() { if (file != "") print verdict, file }
		/^Checking / { flush(); file = substr($0, 10); verdict = "?"; next }
		/^  SUCCESS:/ { verdict = "accept"; next }
		/^  FAILED:/ { verdict = "failed"; next }
		verdict == "failed" {
			verdict = ($0 ~ /^lint error/) ? "accept" : "reject"
		}
		END { flush() }'
	;;
promrun-rules)
	# The file names of the corpus need no JSON escapes.
	list=$(mktemp)
	trap 'rm -f "$list"' EXIT
	printf '%s\n' "$@" >"$list"
	promrun-rules check -c /dev/null -f json "$@" 2>/dev/null |
	    LC_ALL=C awk '
		FNR == NR { order[++n] = $0; next }
		/"level":"error"/ {
			f = $0
			sub(/^\{"file":"/, "", f)
			sub(/","line":.*/, "", f)
			bad[f] = 1
		}
		END {
			for (i = 1; i <= n; i++)
				print (order[i] in bad ? "reject" : "accept"),
				    order[i]
		}' "$list" -
	;;
*)
	echo "verdicts.sh: unknown tool $tool" >&2
	exit 2
	;;
esac

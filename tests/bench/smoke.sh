#!/usr/bin/env bash
# `make test`'s short pass of `make bench`: one round of every section, so
# the benchmark cannot rot between full runs. Its numbers are not results
# (one 2 s round on a busy machine); it checks that the report is whole and
# that the targets with a wide margin hold: no event lost up to 50,000
# exchanges/s, at most 5 % of a core at 10,000.
set -u
build=${1:?usage: smoke.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP bench smoke: needs root (BPF programs, cgroups)"
	echo "bench: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }

if python3 "$here/run.py" "$build" --quick --out "$out/RESULTS.md" >"$out/log" 2>&1; then
	ok "make bench --quick ran"
else
	bad "make bench --quick: $(tail -n 5 "$out/log")"
fi
report="$out/RESULTS.md"
for section in "Request path" "Streaming path" "Kernel cost per program run" \
	"Events lost against exchange rate" "Agent CPU per exchange by traffic" "Memory and detection" \
	"Detectors' cost" "Targets"; do
	grep -q "^## $section" "$report" 2>/dev/null && ok "report has $section" || bad "report lacks $section"
done
rows=$(sed -n '/^## Targets/,$p' "$report" 2>/dev/null | grep -cE '\| (met|\*\*not met\*\*) \|$')
[ "${rows:-0}" -ge 8 ] && ok "targets table: $rows rows" || bad "targets table: ${rows:-0} rows, want 8"
# the detectors' rows were measured (a number for each), whatever they say
det=$(sed -n "/^## Detectors' cost/,/^## /p" "$report" 2>/dev/null | grep -cE '^\| [a-z].* \| [0-9]+\.[0-9]+ \|')
[ "${det:-0}" -eq 4 ] && ok "detectors' cost: 4 measured rows" || bad "detectors' cost: ${det:-0} measured rows, want 4"
grep -qE '^\| 0 events lost up to 50,000 exchanges/s \| .* \| met \|$' "$report" 2>/dev/null &&
	ok "no event lost up to 50,000/s" || bad "events lost at or below 50,000/s: $(grep 'events lost up to' "$report")"
grep -qE '^\| ≤ 5 % of a core at 10,000 exchanges/s \| .* \| met \|$' "$report" 2>/dev/null &&
	ok "agent ≤ 5 % of a core at 10,000/s" || bad "agent CPU at 10,000/s: $(grep 'of a core at 10,000' "$report")"
# the contract's floor is a floor only if it reported every exchange
fl=$(grep -o 'Floor events per request made, per round[^:]*: [0-9., ]*' "$report" 2>/dev/null | sed 's/.*: //; s/\.$//')
if [ -n "$fl" ] && awk -v l="$fl" 'BEGIN { n = split(l, a, ", "); for (i = 1; i <= n; i++) if (a[i] < 0.99 || a[i] > 1.01) exit 1 }'; then
	ok "the floor reported every exchange ($fl events per request)"
else
	bad "the floor's events per request: '${fl}', want 0.99-1.01"
fi
echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# The Prometheus rules shipped in deploy/prometheus: valid, and doing what
# their unit tests say (promtool check rules, promtool test rules).
set -u
cd "$(dirname "$0")/../deploy/prometheus"
passed=0 failed=0
if ! command -v promtool >/dev/null; then
	echo "FAIL promtool is not installed (make deps installs it)"
	echo "rules: 0 passed, 1 failed"
	exit 1
fi
for step in "check rules hydrawatch-rules.yml" "test rules hydrawatch-rules.test.yml"; do
	# shellcheck disable=SC2086
	if out=$(promtool $step 2>&1); then
		echo "PASS promtool $step"
		passed=$((passed + 1))
	else
		echo "FAIL promtool $step"
		echo "$out"
		failed=$((failed + 1))
	fi
done
echo "rules: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# The Prometheus rules shipped in deploy/prometheus: valid, and doing what
# their unit tests say (promtool check rules, promtool test rules); the
# Alertmanager configuration in deploy/alertmanager: valid (amtool
# check-config) and routing each kind of hydrawatch alert to its receiver
# (amtool config routes test). Grouping and inhibition are checked against
# a real Alertmanager in tests/ops.
set -u
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0

step() { # step DESCRIPTION COMMAND...: PASS when the command exits 0
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "PASS $what"
		passed=$((passed + 1))
	else
		echo "FAIL $what"
		echo "$out"
		failed=$((failed + 1))
	fi
}

for tool in promtool amtool; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL $tool is not installed (make test-deps installs it)"
		failed=$((failed + 1))
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "rules: 0 passed, $failed failed"
	exit 1
fi

cd "$here/../deploy/prometheus" || exit 1
step "promtool check rules hydrawatch-rules.yml" promtool check rules hydrawatch-rules.yml
step "promtool test rules hydrawatch-rules.test.yml" promtool test rules hydrawatch-rules.test.yml

cd "$here/../deploy/alertmanager" || exit 1
step "amtool check-config alertmanager.yml" amtool check-config alertmanager.yml
# labels an alert arrives with -> the receiver it must reach
while read -r receiver labels; do
	[ -z "$receiver" ] || [ "${receiver:0:1}" = "#" ] && continue
	# shellcheck disable=SC2086
	step "route $labels -> $receiver" amtool config routes test --config.file=alertmanager.yml \
		--verify.receivers="$receiver" $labels
done <<'EOF'
hydrawatch-farm alertname=hydrawatch_farm rule=farm severity=warning instance=h1 alert_id=farm-1 farm_id=farm-1 tooling_key=1f2e3d4c5b6a7988
hydrawatch-farm alertname=hydrawatch_farm rule=farm severity=critical instance=h1 alert_id=farm-2 farm_id=farm-2
hydrawatch-farm alertname=HydrawatchFleetFarm severity=warning tooling_key=1f2e3d4c5b6a7988
hydrawatch-farm alertname=HydrawatchFleetFingerprintRise severity=info kind=ja4t fingerprint=64240_2-4-8-1-3_1460_7
hydrawatch-farm alertname=hydrawatch_volume rule=volume severity=warning instance=h1 alert_id=volume-1
hydrawatch-ops alertname=HydrawatchDown severity=warning job=hydrawatch instance=h1:9477
hydrawatch-ops alertname=HydrawatchEventsLost severity=warning job=hydrawatch instance=h1:9477
hydrawatch-ops alertname=HydrawatchAccountsEvicted severity=info job=hydrawatch instance=h1:9477
hydrawatch-ops alertname=HydrawatchAlertmanagerUnreachable severity=warning job=hydrawatch instance=h1:9477
EOF
echo "rules: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Keeps README.md and the man page true to the code: every option that
# `hydrawatch --help` prints must be documented in both.
set -u
build=${1:-build}
fail=0 n=0
for opt in $("$build/hydrawatch" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
	n=$((n + 1))
	man_opt=${opt//-/\\-}
	grep -qE -- "${opt}[ \`]" README.md || { echo "FAIL README.md does not document $opt"; fail=$((fail + 1)); }
	grep -qF -- "$man_opt" deploy/hydrawatch.8 || { echo "FAIL hydrawatch.8 does not document $opt"; fail=$((fail + 1)); }
done
echo "docs: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Runs a libFuzzer binary for a bounded time over a copy of its seed corpus.
# Usage: run_fuzz.sh BINARY SEED_CORPUS SECONDS. Exit 77 (skipped) when the binary was not built.
set -euo pipefail
bin=$1 seeds=$2 secs=$3
[ -x "$bin" ] || { echo "fuzz binary $bin not built (scripts/test builds it)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="${FUZZ_ARTIFACTS:-$work}/" "$work"

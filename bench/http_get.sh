#!/usr/bin/env bash
# Load test: an authenticated small JSON GET against a Release cityioc, with wrk on loopback.
# Usage: bench/http_get.sh [CONNECTIONS=64] [SECONDS=20] [WRK_THREADS=2]
# Prints wrk's report (throughput, latency percentiles) and the server's peak RSS.
# Needs: scripts/deps bench; a Release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-64} secs=${2:-20} threads=${3:-2}
bin=build/release/cityioc
[ -x "$bin" ] || { echo "build Release first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "install wrk: scripts/deps bench" >&2; exit 2; }

data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
echo "bench-password-1" | "$bin" user add --data "$data" --username bench --role operator --unit 46 >/dev/null 2>&1
: >"$data/out"
"$bin" serve --listen 127.0.0.1:0 --data "$data" ${IOC_BENCH_SERVE_ARGS:-} >"$data/out" 2>"$data/log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$data/out" | head -1)
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password-1"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
url="http://127.0.0.1:$port/api/v1/units/19789"
curl -sf "$url" -H "Authorization: Bearer $token" >/dev/null
echo "GET $url  (bearer session token, $(curl -s "$url" -H "Authorization: Bearer $token" | wc -c) bytes JSON)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$url"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)  current RSS: $(awk '/VmRSS/{print $2, $3}' /proc/$pid/status)"

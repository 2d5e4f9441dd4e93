#!/usr/bin/env bash
# Load test: citizen report submissions (POST /api/v1/reports, JSON without photos, durable
# before the 201) and status lookups by tracking code (GET /api/v1/reports/track/{code}) against
# a Release cityioc, with wrk on loopback. The per-client submission limit is lifted for the run.
# Usage: bench/reports.sh [CONNECTIONS=64] [SECONDS=20] [WRK_THREADS=2]
# Needs: scripts/deps bench; a Release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-64} secs=${2:-20} threads=${3:-2}
bin=build/release/cityioc
[ -x "$bin" ] || { echo "build Release first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "install wrk: scripts/deps bench" >&2; exit 2; }

data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
: >"$data/out"
CITYIOC_LOG_ACCESS=false CITYIOC_REPORTS_SUBMISSIONS_PER_MINUTE=10000000 \
  "$bin" serve --listen 127.0.0.1:0 --data "$data" >"$data/out" 2>"$data/log" &
pid=$!
for _ in $(seq 300); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$data/out" | head -1)
base="http://127.0.0.1:$port"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

cat >"$data/submit.lua" <<'LUA'
-- A different point per request, inside Huế.
counter = 0
request = function()
  counter = counter + 1
  local lat = 16.44 + (counter % 997) / 20000
  local lon = 107.56 + (counter % 991) / 20000
  local body = string.format('{"service_code":"chieu-sang","description":"Đèn đường không sáng số %d",' ..
    '"location":{"lat":%.6f,"long":%.6f}}', counter, lat, lon)
  return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json"}, body)
end
LUA
echo "== submissions: POST /api/v1/reports (JSON, no photos), $conns connections, ${secs}s"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$data/submit.lua" "$base"

# Tracking codes of real submissions for the lookup run.
for i in $(seq 200); do
  curl -sf "$base/api/v1/reports" -H 'Content-Type: application/json' \
    -d "{\"service_code\":\"cay-xanh\",\"description\":\"Cây đổ $i\",\"location\":{\"lat\":16.46,\"long\":107.59}}" |
    grep -o "\"tracking_code\":\"[A-Z0-9]*\"" | cut -d\" -f4
done >"$data/codes"
echo "tracking codes for the lookups: $(grep -c . "$data/codes")"
{
  echo 'codes = {}'
  while read -r c; do echo "table.insert(codes, \"$c\")"; done <"$data/codes"
  echo 'i = 0'
  echo 'request = function() i = i + 1; return wrk.format("GET", "/api/v1/reports/track/" .. codes[(i % #codes) + 1]) end'
  echo 'response = function(status) if status ~= 200 then print("status " .. status) end end'
} >"$data/track.lua"
echo "== status lookups: GET /api/v1/reports/track/{code}, $conns connections, ${secs}s"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$data/track.lua" "$base"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)"
kill "$pid" && wait "$pid" || true
# wrk counts answers, not what was kept: the store is the witness.
if command -v sqlite3 >/dev/null; then
  echo "reports in the store after a clean stop: $(sqlite3 "$data/cityioc.db" "select count(*) from documents where kind = 'report'")"
fi

#!/usr/bin/env bash
# Load test: NGSI-LD batch upsert of 1,000 entities × 5 attributes per request (durable writes),
# and single-entity PATCH …/attrs, against a Release cityioc on loopback.
# Usage: bench/ngsild_upsert.sh [SECONDS=30] [CONNECTIONS=8] [PATCH_CONNECTIONS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30} conns=${2:-8} pconns=${3:-64}
bin=${IOC_BENCH_BINARY:-build/release/cityioc}
[ -x "$bin" ] || { echo "build Release first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "install wrk: scripts/deps bench" >&2; exit 2; }

data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
key=$("$bin" key add --data "$data" --name bench --scope integration --unit 46 2>/dev/null | tail -1)
: >"$data/out"
CITYIOC_LOG_ACCESS=${CITYIOC_LOG_ACCESS:-true} "$bin" serve --listen 127.0.0.1:0 --data "$data" >"$data/out" 2>"$data/log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$data/out" | head -1)

python3 - "$data/batch.json" "$data/patch.json" <<'PY'
import json, sys
batch = [{"id": f"urn:ngsi-ld:AirQualityObserved:bench-{i}", "type": "AirQualityObserved",
          "pm25": {"type": "Property", "value": 10 + i % 50, "unitCode": "GQ"},
          "pm10": {"type": "Property", "value": 20 + i % 70, "unitCode": "GQ"},
          "no2": {"type": "Property", "value": 5 + i % 30, "unitCode": "GQ"},
          "temperature": {"type": "Property", "value": 25.5, "unitCode": "CEL"},
          "relativeHumidity": {"type": "Property", "value": 0.8, "unitCode": "P1"}}
         for i in range(1000)]
json.dump(batch, open(sys.argv[1], "w"))
json.dump({"pm25": {"type": "Property", "value": 42}}, open(sys.argv[2], "w"))
PY
cat >"$data/post.lua" <<LUA
local f = io.open("$data/batch.json"); local body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
cat >"$data/patch.lua" <<LUA
local f = io.open("$data/patch.json"); local body = f:read("*a"); f:close()
wrk.method = "PATCH"; wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:bench-" .. (counter % 1000) .. "/attrs")
end
LUA
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== batch upsert: 1,000 entities × 5 attributes per request, $conns connections, ${secs}s"
# IOC_BENCH_PERF=FILE records a CPU profile of the server during the batch phase
# (IOC_BENCH_PERF_CG=dwarf,16384 for call stacks through the Release build's frame pointers).
perf_pid=
if [ -n "${IOC_BENCH_PERF:-}" ]; then
  perf record -F 499 --call-graph "${IOC_BENCH_PERF_CG:-fp}" -o "$IOC_BENCH_PERF" -p "$pid" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
fi
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$data/post.lua" "http://127.0.0.1:$port/ngsi-ld/v1/entityOperations/upsert?options=update" | tee "$data/upsert.txt"
[ -z "$perf_pid" ] || wait "$perf_pid"
rps=$(awk '/Requests\/sec/{print $2}' "$data/upsert.txt")
echo "attribute updates/s: $(python3 -c "print(int(float('$rps') * 5000))")"
echo "== PATCH …/attrs, one entity per request, $pconns connections, ${secs}s"
# IOC_BENCH_PERF_PATCH=FILE: the same profile during the PATCH phase.
if [ -n "${IOC_BENCH_PERF_PATCH:-}" ]; then
  perf record -F 499 --call-graph "${IOC_BENCH_PERF_CG:-fp}" -o "$IOC_BENCH_PERF_PATCH" -p "$pid" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
fi
wrk -t2 -c"$pconns" -d"${secs}s" --latency -s "$data/patch.lua" "http://127.0.0.1:$port"
[ -z "${IOC_BENCH_PERF_PATCH:-}" ] || wait "$perf_pid"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)"

#!/usr/bin/env bash
# Read benchmarks at scale against a Release cityioc on loopback (durable store):
#  - 100,000 AirQualityObserved entities in Huế: GET by id, type=&q= query, geo-query near 1 km;
#  - one sensor with 30 days of readings at one a minute (43,200 points): aggregated temporal
#    query PT1H over the 30 days (answered from the rollups).
# Usage: bench/ngsild_query.sh [SECONDS=20] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20} conns=${2:-16}
bin=${IOC_BENCH_BINARY:-build/release/cityioc}
[ -x "$bin" ] || { echo "build Release first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "install wrk: scripts/deps bench" >&2; exit 2; }

data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
key=$("$bin" key add --data "$data" --name bench --scope integration --unit 46 2>/dev/null | tail -1)
: >"$data/out"
CITYIOC_LOG_ACCESS=false CITYIOC_TIMESERIES_COMPACT_INTERVAL_MS=1000 \
  "$bin" serve --listen 127.0.0.1:0 --data "$data" >"$data/out" 2>"$data/log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$data/out" | head -1)
base="http://127.0.0.1:$port"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

echo "== loading 100,000 entities and 43,200 readings"
python3 - "$base" "$key" <<'PY'
import json, random, sys, urllib.request
base, key = sys.argv[1], sys.argv[2]
def post(path, body, ctype="application/json"):
    req = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                 headers={"Content-Type": ctype, "Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status in (200, 201, 204, 207), r.status
rng = random.Random(1)
for start in range(0, 100000, 1000):
    batch = [{"id": f"urn:ngsi-ld:AirQualityObserved:q-{i}", "type": "AirQualityObserved",
              "pm25": {"type": "Property", "value": rng.randint(0, 300)},
              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [
                  round(107.45 + rng.random() * 0.30, 6), round(16.35 + rng.random() * 0.20, 6)]}}}
             for i in range(start, start + 1000)]
    post("/ngsi-ld/v1/entityOperations/upsert", json.dumps(batch))
post("/ngsi-ld/v1/entities", json.dumps({"id": "urn:ngsi-ld:AirQualityObserved:history",
                                        "type": "AirQualityObserved"}))
t0 = 1772323200  # 2026-03-01T00:00:00Z
lines = []
for m in range(30 * 1440):
    t = t0 + m * 60
    stamp = f"{t // 86400 - 20513 + 1:02d}"  # day of March (t0 is 1 March)
    lines.append(json.dumps({"entity": "urn:ngsi-ld:AirQualityObserved:history", "attr": "pm25",
                             "value": 20 + (m % 97), "observedAt":
                             f"2026-03-{stamp}T{(t // 3600) % 24:02d}:{(t // 60) % 60:02d}:00Z"}))
for i in range(0, len(lines), 10000):
    post("/api/v1/telemetry", "\n".join(lines[i:i + 10000]), "application/x-ndjson")
PY
sleep 3  # one compaction interval: the readings move into chunks and rollups

run() {  # name, lua script, url
  echo "== $1"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$2" "$3" | grep -E "Requests/sec|50%|99%|Non-2xx"
}
cat >"$data/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
math.randomseed(7)
request = function()
  return wrk.format(nil, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:q-" .. math.random(0, 99999))
end
LUA
cat >"$data/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
LUA
[ -n "${IOC_BENCH_SKIP_GET:-}" ] || run "GET /entities/{id} (100,000 entities)" "$data/get.lua" "$base"
run "GET /entities?type=AirQualityObserved&q=pm25>250 (100,000 entities)" "$data/auth.lua" \
  "$base/ngsi-ld/v1/entities?type=AirQualityObserved&q=pm25%3E250&limit=20"
run "same with count=true (the whole type is scanned for the total)" "$data/auth.lua" \
  "$base/ngsi-ld/v1/entities?type=AirQualityObserved&q=pm25%3E250&limit=20&count=true"
run "GET /entities geo-query near;maxDistance==1000 (100,000 entities)" "$data/auth.lua" \
  "$base/ngsi-ld/v1/entities?type=AirQualityObserved&georel=near%3BmaxDistance%3D%3D1000&geometry=Point&coordinates=%5B107.58%2C16.46%5D&limit=20"
run "temporal aggregation avg,min,max,totalCount PT1H over 30 days at 1/min" "$data/auth.lua" \
  "$base/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:history?attrs=pm25&aggrMethods=avg,min,max,totalCount&aggrPeriodDuration=PT1H&timerel=between&timeAt=2026-03-01T00:00:00Z&endTimeAt=2026-03-31T00:00:00Z"
curl -s -H "Authorization: Bearer $key" \
  "$base/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:history?attrs=pm25&aggrMethods=totalCount&timerel=between&timeAt=2026-03-01T00:00:00Z&endTimeAt=2026-03-31T00:00:00Z" |
  python3 -c "import json,sys; d=json.load(sys.stdin); print('check: totalCount over 30 days =', d['pm25']['totalCount'][0][0], '(expected 43200)')"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)"

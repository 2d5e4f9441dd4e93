#!/usr/bin/env bash
# Load test: MQTT device telemetry end to end — publishers → Mosquitto → cityioc → durable store.
# Starts a local Mosquitto on a free port and a Release `cityioc serve` on a temporary data
# directory, provisions DEVICES devices through POST /api/v1/devices (five attributes each),
# publishes MESSAGES IoT Agent JSON readings (five attributes + TimeInstant) with
# bench_mqtt_ingest from PUBLISHERS clients at QOS, and measures until the server reports them
# durable (mqtt_messages_committed_total in /metrics): end-to-end msgs/s, not just the publish
# rate. Then checks entities (NGSI-LD count) and stored points (sqlite3, after a clean stop).
# Usage: bench/mqtt_ingest.sh [--mqtt-side] [QOS=0] [MESSAGES=100000] [PUBLISHERS=8] [DEVICES=1000]
# (at QoS 0 keep a burst the server drains within the 30 s keep-alive: docs/BENCHMARKS.md)
# --mqtt-side: CityIOC's MQTT code alone (bench_mqtt_sink: client, lookup, mapping, batching;
# batches acknowledged at once instead of going to the context broker and the store).
# Environment: IOC_BENCH_BINARY (cityioc), IOC_BENCH_MQTT_PUB (bench_mqtt_ingest),
# IOC_BENCH_PERF=FILE (perf record -g of the server during the load, then `perf report -i FILE`;
# IOC_BENCH_PERF_CG=dwarf,16384 for call stacks through the Release build's omitted frame pointers),
# IOC_BENCH_KEEP=1 (keep the temporary directory with the logs),
# IOC_BENCH_RATE=N (publish N msgs/s in total instead of as fast as possible),
# IOC_BENCH_PROBE=1 (notification latency under the load: bench_notify_probe PATCHes a probe
# entity 100 times a second and receives the notifications of a keyValues subscription),
# IOC_BENCH_ALERT_PROBE=N (N detection rules loaded, then bench_alert_probe sends 50 threshold
# crossings a second and times reading → alert event on a WebSocket client),
# IOC_BENCH_WS_CLIENTS=N (N WebSocket clients on the live stream's "entities" topic during the
# load, IOC_BENCH_WS_SLOW of them (default 10) frozen after their first message: bench_stream_fanout),
# and any CITYIOC_* setting for the server.
set -euo pipefail
cd "$(dirname "$0")/.."
side=""
if [ "${1:-}" = --mqtt-side ]; then side=1; shift; fi
qos=${1:-0} messages=${2:-100000} publishers=${3:-8} devices=${4:-1000}
bin=${IOC_BENCH_BINARY:-build/release/cityioc}
pub=${IOC_BENCH_MQTT_PUB:-$(dirname "$bin")/bench/bench_mqtt_ingest}
[ -x "$bin" ] && [ -x "$pub" ] || {
  echo "build Release first: cmake --preset release && cmake --build --preset release" >&2
  exit 2
}
[ -x /usr/sbin/mosquitto ] || { echo "install mosquitto: scripts/deps build" >&2; exit 2; }

data=$(mktemp -d)
mpid="" spid=""
cleanup() {
  for p in $spid $mpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "${IOC_BENCH_KEEP:-}" ]; then echo "kept: $data"; else rm -rf "$data"; fi
}
trap cleanup EXIT
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# No per-client queue limits: a slow subscriber must not make the broker drop QoS 1 messages.
cat >"$data/mosquitto.conf" <<EOF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 0
max_queued_messages 0
EOF
/usr/sbin/mosquitto -c "$data/mosquitto.conf" >"$data/mosquitto.log" 2>&1 &
mpid=$!
if [ -n "$side" ]; then
  sink=$(dirname "$pub")/bench_mqtt_sink
  "$sink" "$mport" "$qos" "$messages" "$devices" "${CITYIOC_MQTT_SUBSCRIBERS:-1}" >"$data/sink.out" &
  spid=$!
  for _ in $(seq 600); do grep -q ready "$data/sink.out" && break; sleep 0.1; done
  echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$pub" --port "$mport" --qos "$qos" --publishers "$publishers" --messages "$messages" \
    --devices "$devices" --apikey bench
  wait "$spid" && rc=0 || rc=$?
  spid=""
  grep -v ready "$data/sink.out"
  echo "mosquitto CPU: $(awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' /proc/$mpid/stat) s"
  exit $rc
fi
key=$("$bin" key add --data "$data" --name bench --scope integration --unit 46 2>/dev/null | tail -1)
: >"$data/out"
if [ -n "${IOC_BENCH_ALERT_PROBE:-}" ]; then
  # N - 1 rules on other types (a city's many rules on other sensors), one on the probe entity;
  # loaded as a rules file at start-up.
  python3 - "$IOC_BENCH_ALERT_PROBE" "$data/rules.json" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
def rule(i, t):
    return {"id": f"r{i}", "name": "bench", "kind": "threshold", "version": 1,
            "target": {"entityType": t, "attribute": "level"}, "op": ">", "value": 0,
            "alert": {"category": "Other", "severity": "Minor", "urgency": "Expected",
                      "certainty": "Observed", "headline": "{entityId} {value}"}}
rules = [rule(i, f"OtherType{i}") for i in range(n - 1)] + [rule(n, "Probe")]
json.dump({"version": 1, "rules": rules}, open(path, "w"))
PY
  export CITYIOC_RULES_FILE="$data/rules.json"
fi
CITYIOC_LOG_ACCESS=false CITYIOC_MQTT_URL="mqtt://127.0.0.1:$mport" CITYIOC_MQTT_QOS="$qos" \
  "$bin" serve --listen 127.0.0.1:0 --data "$data" >"$data/out" 2>"$data/log" &
spid=$!
for _ in $(seq 1200); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$data/out" | head -1)
[ -n "$port" ] || { cat "$data/log" >&2; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$port" "$key" "$devices" "$messages" "$pub" "$mport" "$qos" "$publishers" "$spid" "$mpid" <<'PY'
import http.client, json, os, subprocess, sys, time
port, key, devices, messages, pub, mport, qos, publishers, spid, mpid = sys.argv[1:]
devices, messages = int(devices), int(messages)
hdr = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)

def call(method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=hdr)
    r = conn.getresponse()
    return r.status, r.read().decode(), r

def metric(name):
    _, text, _ = call("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0

def cpu(pid):  # user + system seconds of a process
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def thread_cpu(pid):  # {thread name: user + system seconds}, threads of one name summed
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            out[name] = out.get(name, 0.0) + cpu(f"{pid}/task/{tid}")
        except OSError:
            pass  # the thread ended
    return out

deadline = time.time() + 20
while metric("mqtt_connected") != 1:
    if time.time() > deadline: sys.exit("cityioc did not connect to mosquitto")
    time.sleep(0.05)
names = [("a", "pm25", "GQ"), ("b", "pm10", "GQ"), ("c", "no2", "GQ"),
         ("d", "temperature", "CEL"), ("e", "relativeHumidity", "P1")]
t = time.time()
for i in range(devices):
    st, body, _ = call("POST", "/api/v1/devices", {
        "device_id": f"bench-{i}", "apikey": "bench",
        "entity_id": f"urn:ngsi-ld:AirQualityObserved:bench-{i}",
        "entity_type": "AirQualityObserved",
        "attributes": [{"object_id": o, "name": n, "type": "Property", "unitCode": u}
                       for o, n, u in names]})
    if st != 201: sys.exit(f"provisioning failed: {st} {body}")
print(f"provisioned {devices} devices in {time.time() - t:.1f} s")

base = metric("mqtt_messages_committed_total")
commits0 = (metric("store_commit_duration_seconds_sum"), metric("store_commit_duration_seconds_count"),
            metric("mqtt_ingest_batch_size_sum"), metric("mqtt_ingest_batch_size_count"))
cpu0 = (cpu(spid), cpu(mpid))
threads0 = thread_cpu(spid)
rate = int(os.environ.get("IOC_BENCH_RATE", "0"))
probe = None
if os.environ.get("IOC_BENCH_PROBE"):
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); lport = s.getsockname()[1]; s.close()
    st, body, _ = call("POST", "/ngsi-ld/v1/entities", {"id": "urn:ngsi-ld:Probe:1", "type": "Probe",
                                                        "probe": {"type": "Property", "value": 0}})
    if st != 201: sys.exit(f"probe entity: {st} {body}")
    st, body, _ = call("POST", "/ngsi-ld/v1/subscriptions", {
        "type": "Subscription", "entities": [{"type": "Probe"}], "watchedAttributes": ["probe"],
        "notification": {"format": "keyValues", "attributes": ["probe"],
                         "endpoint": {"uri": f"http://127.0.0.1:{lport}/notify"}}})
    if st != 201: sys.exit(f"subscription: {st} {body}")
    seconds = messages / rate if rate else 10
    probe = subprocess.Popen([os.path.join(os.path.dirname(pub), "bench_notify_probe"), port, key,
                              "urn:ngsi-ld:Probe:1", str(lport), str(int(100 * seconds)), "100"],
                             stdout=subprocess.PIPE, text=True)
if os.environ.get("IOC_BENCH_ALERT_PROBE"):
    st, body, _ = call("POST", "/ngsi-ld/v1/entities", {"id": "urn:ngsi-ld:Probe:alert", "type": "Probe",
                                                        "level": {"type": "Property", "value": -1}})
    if st != 201: sys.exit(f"probe entity: {st} {body}")
    seconds = messages / rate if rate else 10
    probe = subprocess.Popen([os.path.join(os.path.dirname(pub), "bench_alert_probe"), port, key,
                              "urn:ngsi-ld:Probe:alert", str(int(50 * seconds)), "50"],
                             stdout=subprocess.PIPE, text=True)
fanout = None
if os.environ.get("IOC_BENCH_WS_CLIENTS"):
    seconds = messages / rate if rate else 10
    fanout = subprocess.Popen([os.path.join(os.path.dirname(pub), "bench_stream_fanout"), port, key,
                               os.environ["IOC_BENCH_WS_CLIENTS"],
                               os.environ.get("IOC_BENCH_WS_SLOW", "10"), str(int(seconds) + 2)],
                              stdout=subprocess.PIPE, text=True)
    fanout.stdout.readline()  # "ready": connections under way
    time.sleep(2)
perf = None
if os.environ.get("IOC_BENCH_PERF"):
    perf = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", os.environ.get("IOC_BENCH_PERF_CG", "fp"), "-p", spid, "-o",
                             os.environ["IOC_BENCH_PERF"]], stderr=subprocess.DEVNULL)
t0 = time.time()
p = subprocess.Popen([pub, "--port", mport, "--qos", qos, "--publishers", publishers,
                      "--messages", str(messages), "--devices", str(devices), "--apikey", "bench",
                      "--rate", str(rate)],
                     stdout=subprocess.PIPE, text=True)
last, last_change, done_at = base, time.time(), None
while True:
    now = time.time()
    c = metric("mqtt_messages_committed_total")
    if c != last: last, last_change = c, now
    if c - base >= messages:
        done_at = now
        break
    if p.poll() is not None and now - last_change > 15: break
    time.sleep(0.02)
out, _ = p.communicate()
print(out.strip())
if probe:
    print(probe.communicate()[0].strip())
if fanout:
    print(fanout.communicate()[0].strip())
    hub = {l.split()[0]: l.split()[1] for l in call("GET", "/metrics")[1].splitlines()
           if l.startswith("stream_")}
    print("hub metrics:", hub)
if perf:
    perf.send_signal(2)
    perf.wait()
cpu1 = (cpu(spid), cpu(mpid))
threads1 = thread_cpu(spid)
committed = int(last - base)
elapsed = (done_at or last_change) - t0
received = int(metric("mqtt_messages_total"))
drops = {l.split('"')[1]: float(l.split()[1]) for l in call("GET", "/metrics")[1].splitlines()
         if l.startswith("mqtt_messages_dropped_total{") and float(l.split()[1]) > 0}
print(f"end to end: {committed} of {messages} messages durable in {elapsed:.2f} s = "
      f"{committed / elapsed:,.0f} msgs/s ({5 * committed / elapsed:,.0f} attribute updates/s)"
      + ("" if committed == messages else "  ** MESSAGES MISSING **"))
print(f"cpu during the run: cityioc {cpu1[0] - cpu0[0]:.1f} s, mosquitto {cpu1[1] - cpu0[1]:.1f} s"
      f" (of {elapsed * os.cpu_count():.1f} s available); received {received}, dropped {drops or 0}")
busy = sorted(((v - threads0.get(k, 0.0), k) for k, v in threads1.items()), reverse=True)
print("cityioc threads (cpu s): " + ", ".join(f"{k} {v:.2f}" for v, k in busy if v >= 0.05))
cs_sum = metric("store_commit_duration_seconds_sum") - commits0[0]
cs_cnt = metric("store_commit_duration_seconds_count") - commits0[1]
bs_sum = metric("mqtt_ingest_batch_size_sum") - commits0[2]
bs_cnt = metric("mqtt_ingest_batch_size_count") - commits0[3]
if bs_cnt and cs_cnt:
    print(f"during the load: {bs_cnt:.0f} broker ingests of {bs_sum / bs_cnt:.0f} observations on "
          f"average; {cs_cnt:.0f} store commits of {1000 * cs_sum / cs_cnt:.0f} ms on average "
          f"({cs_sum:.1f} s committing)")
comp = {l.split()[0]: float(l.split()[1]) for l in call("GET", "/metrics")[1].splitlines()
        if l.startswith("store_series_compaction_seconds")}
if comp.get("store_series_compaction_seconds_count"):
    n = comp["store_series_compaction_seconds_count"]
    over = {k.split('"')[1]: n - v for k, v in comp.items() if "_bucket" in k and '"+Inf"' not in k}
    print(f"time-series compactions: {n:.0f}, {1000 * comp['store_series_compaction_seconds_sum'] / n:.0f} ms "
          f"on average; longer than 25/50/100 ms: {over.get('0.025', 0):.0f}/{over.get('0.05', 0):.0f}/"
          f"{over.get('0.1', 0):.0f}")
st, _, r = call("GET", "/ngsi-ld/v1/entities?type=AirQualityObserved&limit=0&count=true")
print(f"entities: {r.getheader('NGSILD-Results-Count')} of {devices} (HTTP {st})")
sys.exit(0 if committed == messages else 1)
PY
rc=$?
kill "$spid"
wait "$spid" || true
spid=""
if sqlite3 "$data/cityioc.db" "select 1 from sqlite_master where name='points'" 2>/dev/null | grep -q 1; then
  echo "points stored: $(sqlite3 "$data/cityioc.db" 'select count(*) from points') (expected $((messages * 5)))"
fi
exit $rc

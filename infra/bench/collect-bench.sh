#!/usr/bin/env bash
# Measures POST /collect with a realistic 600-byte beacon, in one run, against:
#   (a) nginx answering 204, (b) a bare minimal API parsing the body, (c) the collector in embedded mode;
# prints requests/s and the ratios, then the collector's latency (p50/p99) at half its peak load.
# Needs wrk and nginx (apt-get install wrk nginx). Usage: infra/bench/collect-bench.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-15}
CONNECTIONS=${2:-32}
THREADS=2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }
rps() { sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p'; }

for tool in wrk nginx dotnet; do command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install wrk nginx)"; exit 1; }; done

echo "==> building (Release)"
dotnet build infra/bench/bare/BareEndpoint.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build collector/TouchpointTracker.Collector/TouchpointTracker.Collector.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null

nginx_port=$(port); bare_port=$(port); collector_port=$(port)
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  server { listen 127.0.0.1:$nginx_port; location / { client_max_body_size 64k; return 204; } }
}
CONF
nginx -p "$work" -c "$work/nginx.conf"
ASPNETCORE_URLS="http://127.0.0.1:$bare_port" dotnet infra/bench/bare/bin/Release/net10.0/BareEndpoint.dll >/dev/null 2>&1 & pids+=($!)
Edge__RateLimitPerSecond=0 Logging__LogLevel__Default=Warning Analytics__Path="$work/data/analytics.duckdb" dotnet collector/TouchpointTracker.Collector/bin/Release/net10.0/TouchpointTracker.Collector.dll \
  --urls "http://127.0.0.1:$collector_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$nginx_port"; wait_port "$bare_port"; wait_port "$collector_port"

run() { # url seconds [rate]
  RATE=${3:-0} THREADS=$THREADS wrk -t$THREADS -c"$CONNECTIONS" -d"${2}s" --latency -s infra/bench/post.lua "$1"
}
echo "==> warm-up"
run "http://127.0.0.1:$bare_port/collect" 3 >/dev/null
run "http://127.0.0.1:$collector_port/collect" 10 >/dev/null # past tiered compilation

echo "==> ${DURATION}s each, $CONNECTIONS connections, $THREADS wrk threads"
a=$(run "http://127.0.0.1:$nginx_port/collect" "$DURATION" | rps)
b=$(run "http://127.0.0.1:$bare_port/collect" "$DURATION" | rps)
c_out=$(run "http://127.0.0.1:$collector_port/collect" "$DURATION")
c=$(rps <<<"$c_out")
non2xx=$(sed -nE 's/^ +Non-2xx or 3xx responses: +([0-9]+).*/\1/p' <<<"$c_out"); non2xx=${non2xx:-0}
half=$(python3 -c "print(int($c/2))")
h_out=$(run "http://127.0.0.1:$collector_port/collect" "$DURATION" "$half")
p50=$(sed -nE 's/^ +50% +([0-9.]+[a-z]+).*/\1/p' <<<"$h_out")
p99=$(sed -nE 's/^ +99% +([0-9.]+[a-z]+).*/\1/p' <<<"$h_out")
h=$(rps <<<"$h_out")

python3 - "$a" "$b" "$c" "$half" "$h" "$p50" "$p99" "$non2xx" <<'PY'
import sys
a, b, c, half, h = map(float, sys.argv[1:6]); p50, p99, non2xx = sys.argv[6:9]
print(f"nginx return 204          {a:10.0f} req/s   1.00")
print(f"bare minimal API (parse)  {b:10.0f} req/s   {b/a:.2f} x nginx")
print(f"collector, embedded mode  {c:10.0f} req/s   {c/a:.2f} x nginx   {c/b:.2f} x bare   (non-2xx: {non2xx})")
print(f"collector at half load    {h:10.0f} req/s (target {half:.0f})   p50 {p50}   p99 {p99}")
PY

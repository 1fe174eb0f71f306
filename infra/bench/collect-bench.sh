#!/usr/bin/env bash
# Measures POST /collect with a realistic 600-byte beacon, in one run, against:
#   (a) nginx answering 204, (b) a bare minimal API parsing the body, (c) the collector in embedded mode,
#   (d) the collector in distributed mode: a redis-server (AOF, fsync every second) and librdkafka's mock
#       cluster (infra/bench/kafka-peer) on loopback, the forwarder moving the buffer to Kafka;
# prints requests/s and the ratios, each collector's latency (p50/p99) at half its peak load, the CPU time per
# request of the collector (and of redis-server and the Kafka peer in distributed mode), and for the distributed
# mode the forwarding rate, how long the buffer took to empty after the load stopped, the Redis memory per
# buffered entry, how many requests each append script call carried, and Redis's own count of the append calls and
# of the forwarder's reads, acknowledgements and trims (INFO commandstats: calls, events per call, µs per event).
# Needs wrk, nginx and redis-server (apt-get install wrk nginx redis-server).
# Usage: infra/bench/collect-bench.sh [seconds] [connections]
#   MODES="embedded" skips the distributed run, MODES="distributed" the embedded one.
#   BASELINE=<folder of another Release build of the collector> measures that build too, in the same run and
#     against the same nginx, Redis and Kafka peer (embedded and distributed, each just before the current build).
#   REDIS_ARGS="--stream-node-max-bytes 16384" passes settings to the bench's redis-server.
#   WARMUP=<seconds> of load before each collector's measured runs (30 by default: on a busy machine tiered
#     compilation is still replacing hot methods 15-25 s after the start, and a shorter warm-up measures the JIT).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-15}
CONNECTIONS=${2:-32}
THREADS=2
WARMUP=${WARMUP:-30}
# shellcheck source=infra/bench/lib.sh
source infra/bench/lib.sh
rps() { sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p'; }

MODES=${MODES:-embedded distributed}
for tool in wrk nginx dotnet redis-server; do command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install wrk nginx)"; exit 1; }; done

echo "==> building (Release)"
dotnet build infra/bench/bare/BareEndpoint.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build collector/TouchpointTracker.Collector/TouchpointTracker.Collector.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
[[ $MODES == *distributed* ]] && dotnet build infra/bench/kafka-peer/KafkaPeer.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null

nginx_port=$(port); bare_port=$(port); collector_port=$(port)
start_nginx_204 "$nginx_port"
ASPNETCORE_URLS="http://127.0.0.1:$bare_port" dotnet infra/bench/bare/bin/Release/net10.0/BareEndpoint.dll >/dev/null 2>&1 & pids+=($!)
wait_port "$nginx_port"; wait_port "$bare_port"

run() { # url seconds [rate]
  RATE=${3:-0} THREADS=$THREADS wrk -t$THREADS -c"$CONNECTIONS" -d"${2}s" --latency -s infra/bench/post.lua "$1"
}
metric() { # port name: the sum of a metric's series on the collector's /metrics
  curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 ~ "^"m"({|$)" { s += $NF } END { printf "%d\n", s }'
}
metricf() { # port name: the same as a decimal number
  curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 ~ "^"m"({|$)" { s += $NF } END { printf "%.6f\n", s }'
}
measure() { # label port collector-pid [redis-pid kafka-pid]: flat out, then half that rate; sets the globals of the summary
  local out half_out c0 c1 o0 o1 k0 k1 requests
  run "http://127.0.0.1:$2/collect" "$WARMUP" >/dev/null # warm-up, past tiered compilation
  c0=$(ticks "$3"); o0=$(ticks "${4:-}"); k0=$(ticks "${5:-}"); a0=$(metricf "$2" dotnet_gc_heap_total_allocated_bytes_total)
  out=$(run "http://127.0.0.1:$2/collect" "$DURATION")
  c1=$(ticks "$3"); o1=$(ticks "${4:-}"); k1=$(ticks "${5:-}"); a1=$(metricf "$2" dotnet_gc_heap_total_allocated_bytes_total)
  peak=$(rps <<<"$out")
  requests=$(sed -nE 's/^ +([0-9]+) requests in .*/\1/p' <<<"$out")
  cpu=$(python3 -c "r=$requests; print(f'{($c1-$c0)*1e6/$hz/r:.0f}|{($o1-$o0)*1e6/$hz/r:.0f}|{($k1-$k0)*1e6/$hz/r:.0f}|{($a1-$a0)/r:.0f}')")
  non2xx=$(sed -nE 's/^ +Non-2xx or 3xx responses: +([0-9]+).*/\1/p' <<<"$out"); non2xx=${non2xx:-0}
  half=$(python3 -c "print(int($peak/2))")
  g0=$(metricf "$2" dotnet_gc_pause_time_seconds_total); n0=$(curl -s "http://127.0.0.1:$2/metrics" | awk '/^dotnet_gc_collections_total.*gen2/ { print $NF }'); all0=$(metric "$2" dotnet_gc_collections_total)
  half_out=$(run "http://127.0.0.1:$2/collect" "$DURATION" "$half")
  g1=$(metricf "$2" dotnet_gc_pause_time_seconds_total); n1=$(curl -s "http://127.0.0.1:$2/metrics" | awk '/^dotnet_gc_collections_total.*gen2/ { print $NF }'); all1=$(metric "$2" dotnet_gc_collections_total)
  gc=$(python3 -c "n=$all1-$all0; print(f'{($g1-$g0)*1000:.0f} ms of GC pauses in {n} collections ({${n1:-0}-${n0:-0}} of gen2), {($g1-$g0)*1000/max(n,1):.1f} ms on average')")
  hrate=$(rps <<<"$half_out")
  p50=$(sed -nE 's/^ +50% +([0-9.]+[a-z]+).*/\1/p' <<<"$half_out")
  p99=$(sed -nE 's/^ +99% +([0-9.]+[a-z]+).*/\1/p' <<<"$half_out")
  hnon2xx=$(sed -nE 's/^ +Non-2xx or 3xx responses: +([0-9]+).*/\1/p' <<<"$half_out"); hnon2xx=${hnon2xx:-0}
  summary+=("$1|$peak|$non2xx|$half|$hrate|$p50|$p99|$cpu|$hnon2xx|$gc|$(uptime | sed -E 's/.*load average: //')")
}
summary=()
extra=()

echo "==> warm-up"
run "http://127.0.0.1:$bare_port/collect" 3 >/dev/null

echo "==> ${DURATION}s each after ${WARMUP}s of warm-up per collector, $CONNECTIONS connections, $THREADS wrk threads; $(uptime)"
a=$(run "http://127.0.0.1:$nginx_port/collect" "$DURATION" | rps)
b=$(run "http://127.0.0.1:$bare_port/collect" "$DURATION" | rps)
builds=()
[ -n "${BASELINE:-}" ] && builds+=("baseline|$BASELINE")
builds+=("|collector/TouchpointTracker.Collector/bin/Release/net10.0")

if [[ $MODES == *embedded* ]]; then
  for build in "${builds[@]}"; do
    name=${build%%|*}; dir=${build#*|}
    rm -rf "$work/data"
    Edge__RateLimitPerSecond=0 Logging__LogLevel__Default=Warning Analytics__Path="$work/data/analytics.duckdb" dotnet "$dir/TouchpointTracker.Collector.dll" \
      --urls "http://127.0.0.1:$collector_port" >/dev/null 2>&1 & embedded_pid=$!; pids+=($embedded_pid)
    wait_port "$collector_port"
    measure "collector, embedded mode${name:+ ($name)}" "$collector_port" "$embedded_pid"
    kill "$embedded_pid"; wait "$embedded_pid" 2>/dev/null || true
  done
fi
if [[ $MODES == *distributed* ]]; then
  redis_port=$(port)
  # shellcheck disable=SC2086
  start_redis "$redis_port" ${REDIS_ARGS:-}
  topic=tt.touchpoints.bench; partitions=6
  start_kafka_peer "$topic" "$partitions"
  wait_port "$redis_port"
  buffer_sample() { # prefix: prints the shard streams' MEMORY USAGE, entries, and the touchpoint JSON bytes and count of a sample
    local bytes=0 entries=0 payload=0 sampled=0 key c l
    for key in $(redis-cli -p "$redis_port" --scan --pattern "$1:{s*}:events"); do
      entries=$((entries + $(redis-cli -p "$redis_port" XLEN "$key")))
      bytes=$((bytes + $(redis-cli -p "$redis_port" MEMORY USAGE "$key" SAMPLES 0)))
      read -r c l < <(redis-cli -p "$redis_port" --raw XREVRANGE "$key" + - COUNT 200 | LC_ALL=C awk 'prev == "tp" { n++; s += length($0) } { prev = $0 } END { print n + 0, s + 0 }')
      sampled=$((sampled + c)); payload=$((payload + l))
    done
    echo "$bytes $entries $payload $sampled"
  }
  n=0
  for build in "${builds[@]}"; do
    name=${build%%|*}; dir=${build#*|}; n=$((n + 1)); prefix="bench$n"; dist_port=$(port)
    Edge__RateLimitPerSecond=0 Logging__LogLevel__Default=Warning Redis__Configuration="127.0.0.1:$redis_port" Redis__KeyPrefix="$prefix" \
      Kafka__BootstrapServers="$bootstrap" Kafka__TouchpointsTopic="$topic" Kafka__TouchpointsPartitions="$partitions" \
      Kafka__ReplicationFactor=1 Kafka__CreateTopics=false Kafka__Properties__log_level=3 Collector__Sites__demo__Domains__0='*' \
      dotnet "$dir/TouchpointTracker.Collector.dll" \
      --urls "http://127.0.0.1:$dist_port" >"$work/distributed$n.log" 2>&1 & dist_pid=$!; pids+=($dist_pid)
    wait_port "$dist_port"
    f0=$(metric "$dist_port" tt_forwarded_events_total); t0=$(date +%s.%N)
    redis-cli -p "$redis_port" CONFIG RESETSTAT >/dev/null
    # Redis memory per entry, sampled halfway through the flat-out run (after the load the forwarder trims the streams).
    (sleep $((WARMUP + DURATION / 2)); buffer_sample "$prefix" > "$work/sample$n") &
    measure "collector, distributed mode${name:+ ($name)}" "$dist_port" "$dist_pid" "$redis_pid" "$kafka_pid"
    # The load has stopped: how deep is the buffer, what does an entry cost in Redis, and how long until the
    # forwarder has emptied it?
    depth=$(metric "$dist_port" tt_buffer_depth); t1=$(date +%s.%N)
    read -r bytes entries payload sampled < "$work/sample$n"
    waited=0
    while [ "$(metric "$dist_port" tt_buffer_depth)" -gt 0 ] && [ "$waited" -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
    t2=$(date +%s.%N); f2=$(metric "$dist_port" tt_forwarded_events_total); left=$(metric "$dist_port" tt_buffer_depth)
    calls=$(metric "$dist_port" tt_buffer_append_calls_total); batches=$(metric "$dist_port" tt_buffer_append_batches_total)
    # Redis's own account of this build's run (warm-up, both loads, the drain): calls and time per command.
    redis-cli -p "$redis_port" INFO commandstats | tr -d '\r' > "$work/commandstats$n"
    extra+=("$(python3 -c "
name='${name:+ ($name)}'
print(f'distributed{name}: forwarded {$f2-$f0:.0f} events at {($f2-$f0)/($t2-$t0):.0f}/s over the runs; buffer depth {$depth} when the load stopped, {$left} after {$t2-$t1:.1f} s')
print(f'  Redis memory per buffered entry: {$bytes/max($entries,1):.0f} bytes (MEMORY USAGE / XLEN halfway through the flat-out run, over {$entries} entries; the touchpoint JSON averages {$payload/max($sampled,1):.0f} bytes)')
print('  requests per append script call: ' + (f'{$batches/$calls:.1f}' if $calls > 0 else 'n/a (this build does not count its calls)'))
import re
stats = {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(r'cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)', open('$work/commandstats$n').read())}
fwd = $f2 - $f0
def per(cmd):
    c, u = stats.get(cmd, (0, 0))
    return f'{cmd.upper()} {c} calls ({fwd / max(c, 1):.0f} events each, {u / max(fwd, 1):.1f} us per event)'
print('  Redis commands over the runs (INFO commandstats): ' + '; '.join(per(c) for c in ('evalsha', 'xreadgroup', 'xack', 'xtrim')))
")")
    kill "$dist_pid"; wait "$dist_pid" 2>/dev/null || true
  done
fi

python3 - "$a" "$b" "${summary[@]}" <<'PY'
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
print(f"nginx return 204             {a:10.0f} req/s   1.00")
print(f"bare minimal API (parse)     {b:10.0f} req/s   {b/a:.2f} x nginx")
for row in sys.argv[3:]:
    label, peak, non2xx, half, hrate, p50, p99, ccpu, rcpu, kcpu, alloc, hnon2xx, gc, load = row.split("|")
    peak = float(peak)
    print(f"{label}")
    print(f"  flat out                   {peak:10.0f} req/s   {peak/a:.2f} x nginx   {peak/b:.2f} x bare   (non-2xx: {non2xx})")
    cpu = f"collector {ccpu} us" + (f", redis-server {rcpu} us, Kafka peer {kcpu} us" if "distributed" in label else "")
    print(f"  CPU per request (flat out) {cpu}; the collector allocated {alloc} bytes per request")
    print(f"  at half load               {float(hrate):10.0f} req/s (target {half})   p50 {p50}   p99 {p99}   (non-2xx: {hnon2xx}; load average {load})")
    print(f"  during the half-load run   {gc}")
PY
for line in "${extra[@]}"; do echo "$line"; done
echo "$(uptime)"

#!/usr/bin/env bash
# Compares collector builds or runtime settings in the distributed mode, alternated round by round against one
# nginx, one redis-server (AOF, fsync every second) and one Kafka peer (librdkafka's mock cluster), so a shared
# machine's load weighs on every variant alike. Per variant and round: a fresh collector, a warm-up, then a
# flat-out run; prints req/s, the ratio to nginx-204 measured in the same round, and the CPU time per request of
# the collector, redis-server and the Kafka peer, with the load average.
# Needs wrk, nginx, redis-server; the builds in Release (collect-bench.sh builds the current one).
# Usage: infra/bench/collector-ab.sh <seconds> <rounds> "<label>|<build folder>|<VAR=value ...>" ...
#   e.g. infra/bench/collector-ab.sh 12 2 "default|collector/TouchpointTracker.Collector/bin/Release/net10.0|" \
#          "pgo-on|collector/TouchpointTracker.Collector/bin/Release/net10.0|DOTNET_TieredPGO=1"
#   WARMUP=<seconds> before each measured run (30 by default).
#   MODE=embedded compares the embedded mode instead (no Redis or Kafka peer; each collector gets a fresh analytics
#     store); the CPU per request is then the collector's alone, with the allocation per request beside it.
set -uo pipefail
cd "$(dirname "$0")/../.."
DURATION=$1; ROUNDS=$2; shift 2
WARMUP=${WARMUP:-30}
MODE=${MODE:-distributed}
# shellcheck source=infra/bench/lib.sh
source infra/bench/lib.sh
load() { RATE=0 THREADS=2 wrk -t2 -c32 -d"$2s" -s infra/bench/post.lua "$1"; }

dotnet build infra/bench/kafka-peer/KafkaPeer.csproj -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
nginx_port=$(port)
start_nginx_204 "$nginx_port"
redis_pid=; kafka_pid=
if [ "$MODE" = distributed ]; then
  redis_port=$(port)
  start_redis "$redis_port"
  start_kafka_peer tt.ab 6
  wait_port "$redis_port"
fi
wait_port "$nginx_port"
allocated() { curl -s "http://127.0.0.1:$1/metrics" | awk '$1 ~ "^dotnet_gc_heap_total_allocated_bytes_total" { s += $NF } END { printf "%.0f\n", s }'; }

n=0
for round in $(seq 1 "$ROUNDS"); do
  nginx_rps=$(load "http://127.0.0.1:$nginx_port/collect" "$DURATION" | sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p')
  echo "round $round: nginx-204 $nginx_rps req/s (load average $(uptime | sed -E 's/.*load average: //'))"
  for variant in "$@"; do
    IFS='|' read -r label dir settings <<<"$variant"
    n=$((n + 1)); collector_port=$(port)
    if [ "$MODE" = distributed ]; then
      # shellcheck disable=SC2086
      env $settings Edge__RateLimitPerSecond=0 Logging__LogLevel__Default=Warning Redis__Configuration="127.0.0.1:$redis_port" Redis__KeyPrefix="ab$n" \
        Kafka__BootstrapServers="$bootstrap" Kafka__TouchpointsTopic=tt.ab Kafka__TouchpointsPartitions=6 Kafka__ReplicationFactor=1 \
        Kafka__CreateTopics=false Kafka__Properties__log_level=3 Collector__Sites__demo__Domains__0='*' \
        dotnet "$dir/TouchpointTracker.Collector.dll" --urls "http://127.0.0.1:$collector_port" > "$work/collector$n.log" 2>&1 & collector_pid=$!
    else
      # shellcheck disable=SC2086
      env $settings Edge__RateLimitPerSecond=0 Logging__LogLevel__Default=Warning Analytics__Path="$work/data$n/analytics.duckdb" \
        dotnet "$dir/TouchpointTracker.Collector.dll" --urls "http://127.0.0.1:$collector_port" > "$work/collector$n.log" 2>&1 & collector_pid=$!
    fi
    wait_port "$collector_port"
    load "http://127.0.0.1:$collector_port/collect" "$WARMUP" >/dev/null
    c0=$(ticks $collector_pid); r0=$(ticks $redis_pid); k0=$(ticks $kafka_pid); a0=$(allocated "$collector_port")
    out=$(load "http://127.0.0.1:$collector_port/collect" "$DURATION")
    c1=$(ticks $collector_pid); r1=$(ticks $redis_pid); k1=$(ticks $kafka_pid); a1=$(allocated "$collector_port")
    rps=$(sed -nE 's/^Requests\/sec: +([0-9.]+).*/\1/p' <<<"$out")
    requests=$(sed -nE 's/^ +([0-9]+) requests in .*/\1/p' <<<"$out")
    non2xx=$(sed -nE 's/^ +Non-2xx or 3xx responses: +([0-9]+).*/\1/p' <<<"$out")
    python3 -c "
r=$requests; f=1e6/$hz/r
peers=', redis-server %.0f us, Kafka peer %.0f us' % (($r1-$r0)*f, ($k1-$k0)*f) if '$MODE' == 'distributed' else ''
print(f'round $round  %-16s %8.0f req/s  %.2f x nginx-204  CPU per request: collector %.0f us%s; allocated %.0f B  (non-2xx: ${non2xx:-0}; load average %s)' % ('$label', $rps, $rps/$nginx_rps, ($c1-$c0)*f, peers, ($a1-$a0)/r, '$(uptime | sed -E 's/.*load average: //')'))"
    kill $collector_pid; wait $collector_pid 2>/dev/null
  done
done

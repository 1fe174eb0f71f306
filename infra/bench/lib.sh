# Shared by the collector benchmarks (collect-bench.sh, collector-ab.sh): a work folder cleaned up at exit with every
# process started, free ports, and the peers they measure against. Source it from the repository root.
work=$(mktemp -d)
pids=()
bench_cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"; }
trap bench_cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }
ticks() { # pids...: CPU time (user + system, clock ticks) of the processes so far
  local t=0 p; for p in "$@"; do [ -n "$p" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"
}
hz=$(getconf CLK_TCK)

start_nginx_204() { # port: nginx answering 204 to everything (the ceiling of the HTTP stack)
  mkdir -p "$work/logs"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  server { listen 127.0.0.1:$1; location / { client_max_body_size 64k; return 204; } }
}
CONF
  nginx -p "$work" -c "$work/nginx.conf"
}

start_redis() { # port [settings...]: redis-server with AOF, fsync every second; sets redis_pid
  mkdir -p "$work/redis"
  local p=$1; shift
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$work/redis" "$@" >/dev/null 2>&1 & redis_pid=$!; pids+=($redis_pid)
}

start_kafka_peer() { # topic partitions: librdkafka's mock cluster (built in Release first); sets kafka_pid and bootstrap
  dotnet infra/bench/kafka-peer/bin/Release/net10.0/KafkaPeer.dll "$1" "$2" > "$work/kafka.out" 2>"$work/kafka.err" & kafka_pid=$!; pids+=($kafka_pid)
  for _ in $(seq 1 100); do [ -s "$work/kafka.out" ] && break; sleep 0.1; done
  bootstrap=$(head -1 "$work/kafka.out"); [ -n "$bootstrap" ] || { echo "the Kafka peer did not start: $(cat "$work/kafka.err")"; exit 1; }
}

#!/usr/bin/env bash
# tt-healthcheck [PATH]: exits 0 when GET PATH on this container's HTTP port answers 200, 1 otherwise.
#
# The .NET runtime images carry neither curl nor wget, and installing one only for health checks adds
# an HTTP client to every production image; bash's /dev/tcp is enough for one request to ourselves.
# Used by the Dockerfiles' HEALTHCHECK (liveness, /healthz) and by docker-compose.yml (readiness,
# /readyz). Kubernetes ignores HEALTHCHECK and probes over HTTP itself (infra/k8s).
#   TT_HEALTH_PORT     port to ask (default 8080, the port ASPNETCORE_URLS sets in the images)
#   TT_HEALTH_TIMEOUT  seconds to wait for the status line (default 3)
set -u
path="${1:-/healthz}"
port="${TT_HEALTH_PORT:-8080}"
timeout="${TT_HEALTH_TIMEOUT:-3}"

{ exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null || exit 1
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tt-healthcheck\r\nConnection: close\r\n\r\n' "$path" >&3 || exit 1
IFS= read -r -t "$timeout" status <&3 || exit 1
exec 3<&-
case "$status" in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) exit 1 ;;
esac

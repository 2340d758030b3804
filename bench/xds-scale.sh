#!/usr/bin/env bash
# bench/xds-scale.sh: how the gateway takes large file-based xDS updates (issue 15's scale targets).
#
#   bench/xds-scale.sh [--clusters N] [--endpoints E] [--no-build]
#
# Starts nginx (the upstream) and the Release gateway on 127.0.0.1 with N EDS clusters of E endpoints (one EDS file
# each), a CDS file and an RDS table of N routes, then: start-up time and memory; a baseline wrk run on the route to
# c0 (the last of the N routes); and, under the same wrk load, an update of every EDS file, the CDS file (every
# cluster changed) and the RDS table, reporting how long each took to apply and the p99 during the update.
# Everything this script starts is stopped on exit. Results go to bench/results/xds-<stamp>.md.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$BENCH_DIR/.work/xds-$STAMP"
N=10000; E=10; NO_BUILD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clusters) N="$2"; shift 2 ;;
    --endpoints) E="$2"; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    *) sed -n '2,9p' "$0"; exit 1 ;;
  esac
done
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stat() { curl -s "http://127.0.0.1:$ADMIN/stats?filter=^$1\$" | sed -n 's/^[^:]*: //p'; }
wait_stat() { # name minimum timeout_s
  local deadline=$(( $(date +%s) + $3 ))
  while :; do v="$(stat "$1")"; [[ -n "$v" && "$v" -ge "$2" ]] && return 0; [[ $(date +%s) -gt $deadline ]] && { echo "timeout waiting for $1 >= $2 (is $v)" >&2; return 1; }; sleep 0.05; done
}
now_ms() { date +%s%3N; }

[[ $NO_BUILD -eq 1 ]] || dotnet build -c Release "$REPO_DIR/src/Gateway.Host" -v q -nologo >/dev/null
UPSTREAM=$(free_port); LISTENER=$(free_port); ADMIN=$(free_port)
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$UPSTREAM; location / { return 200 "ok\n"; } } }
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)

python3 "$BENCH_DIR/xds_files.py" "$WORK" "$N" "$E" 1 "$UPSTREAM"
cat > "$WORK/envoy.yaml" <<YAML
admin: { address: { socket_address: { address: 127.0.0.1, port_value: $ADMIN } } }
dynamic_resources:
  cds_config: { resource_api_version: V3, path_config_source: { path: $WORK/cds.yaml } }
static_resources:
  listeners:
  - name: scale
    address: { socket_address: { address: 127.0.0.1, port_value: $LISTENER } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: scale
          http_filters: [ { name: envoy.filters.http.router } ]
          rds: { route_config_name: scale, config_source: { resource_api_version: V3, path_config_source: { path: $WORK/rds.yaml } } }
YAML
START=$(now_ms)
dotnet "$REPO_DIR/src/Gateway.Host/bin/Release/net10.0/gateway.dll" -c "$WORK/envoy.yaml" -l warning > "$WORK/gateway.log" 2>&1 & GW=$!; PIDS+=($GW)
until curl -sf "http://127.0.0.1:$ADMIN/ready" >/dev/null 2>&1; do sleep 0.1; kill -0 $GW || { cat "$WORK/gateway.log"; exit 1; }; done
STARTUP=$(( $(now_ms) - START ))
curl -sf "http://127.0.0.1:$LISTENER/r0" >/dev/null
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$GW/status)
HEAP=$(stat server.memory_allocated)
echo "start-up with $N clusters x $E endpoints and $N routes: ${STARTUP} ms, RSS $((RSS_KB/1024)) MiB, managed heap $((HEAP/1048576)) MiB"

p99() { sed -n 's/^ *99% *//p' "$1"; }
wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$LISTENER/r0" > "$WORK/baseline.txt"
BASE_P99=$(p99 "$WORK/baseline.txt"); BASE_RPS=$(sed -n 's/^Requests\/sec: *//p' "$WORK/baseline.txt")
echo "baseline: $BASE_RPS req/s, p99 $BASE_P99"

wrk -t2 -c32 -d40s --latency "http://127.0.0.1:$LISTENER/r0" > "$WORK/update.txt" & WRK=$!; PIDS+=($WRK)
sleep 5
T0=$(now_ms); EDS_BEFORE=$(stat cluster.c$((N-1)).update_success)
python3 "$BENCH_DIR/xds_files.py" "$WORK" "$N" "$E" 2 "$UPSTREAM" --only eds
wait_stat "cluster.c$((N-1)).update_success" $((EDS_BEFORE + 1)) 600
EDS_MS=$(( $(now_ms) - T0 ))
T1=$(now_ms); python3 "$BENCH_DIR/xds_files.py" "$WORK" "$N" "$E" 2 "$UPSTREAM" --only cds
wait_stat cluster_manager.cds.update_success 2 600
CDS_MS=$(( $(now_ms) - T1 ))
T2=$(now_ms); python3 "$BENCH_DIR/xds_files.py" "$WORK" "$N" "$E" 2 "$UPSTREAM" --only rds
wait_stat http.scale.rds.scale.update_success 2 600
RDS_MS=$(( $(now_ms) - T2 ))
RSS2_KB=$(awk '/VmRSS/ {print $2}' /proc/$GW/status)
wait $WRK || true
UPD_P99=$(p99 "$WORK/update.txt"); UPD_RPS=$(sed -n 's/^Requests\/sec: *//p' "$WORK/update.txt")
NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$WORK/update.txt"); ERRS=$(sed -n 's/^ *Socket errors: *//p' "$WORK/update.txt")
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/xds-$STAMP.md"
{
  echo "# xDS scale: $N clusters x $E endpoints, $N routes ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "- start-up (all files read, ready): ${STARTUP} ms; RSS $((RSS_KB/1024)) MiB, managed heap $((HEAP/1048576)) MiB"
  echo "- baseline load on the last route (wrk -t2 -c32 -d10s): $BASE_RPS req/s, p99 $BASE_P99"
  echo "- every EDS file moved ($N updates): last applied after ${EDS_MS} ms"
  echo "- CDS with every cluster changed: applied after ${CDS_MS} ms"
  echo "- RDS table of $N routes replaced: applied after ${RDS_MS} ms"
  echo "- during the updates (wrk -d40s): $UPD_RPS req/s, p99 $UPD_P99, non-2xx: ${NON2XX:-0}, socket errors: ${ERRS:-none}; RSS after $((RSS2_KB/1024)) MiB"
} | tee "$OUT"

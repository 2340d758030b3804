#!/usr/bin/env bash
# bench/xds-scale.sh: how the gateway takes large xDS updates, file-based or (--grpc, --delta) over ADS (issue 15's scale targets).
#
#   bench/xds-scale.sh [--clusters N] [--endpoints E] [--no-build] [--grpc | --delta]
#
# Starts nginx (the upstream) and the Release gateway on 127.0.0.1 with N EDS clusters of E endpoints (one EDS file
# each), a CDS file and an RDS table of N routes, then: start-up time and memory; a baseline wrk run on the route to
# c0 (the last of the N routes); and, under the same wrk load, an update of every EDS file, the CDS file (every
# cluster changed) and the RDS table, reporting how long each took to apply and the p99 during the update.
# --grpc / --delta: the same N clusters x E endpoints and N routes come over ADS (state of the world / incremental)
# from bench/xds-grpc-server.js (node; packages from tests/xds-node: cd tests/xds-node && npm ci); the update is one
# push of every cluster, assignment and the route table, timed until the gateway ACKed every type pushed.
# Everything this script starts is stopped on exit. Results go to bench/results/xds-<stamp>.md.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$BENCH_DIR/.work/xds-$STAMP"
N=10000; E=10; NO_BUILD=0; MODE=file
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clusters) N="$2"; shift 2 ;;
    --endpoints) E="$2"; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    --grpc) MODE=grpc; shift ;;
    --delta) MODE=delta; shift ;;
    *) sed -n '2,13p' "$0"; exit 1 ;;
  esac
done
if [[ $MODE != file ]]; then
  command -v node >/dev/null || { echo "--$MODE needs node (apt-get install -y nodejs)" >&2; exit 3; }
  [[ -d "$REPO_DIR/tests/xds-node/node_modules/@grpc/grpc-js-xds" ]] || { echo "--$MODE needs tests/xds-node's packages: cd tests/xds-node && npm ci" >&2; exit 3; }
fi
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; exec 7>&- 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stat() { curl -s "http://127.0.0.1:$ADMIN/stats?filter=^$1\$" | sed -n 's/^[^:]*: //p'; }
wait_stat() { # name minimum timeout_s
  local deadline=$(( $(date +%s) + $3 ))
  while :; do v="$(stat "$1")"; [[ -n "$v" && "$v" -ge "$2" ]] && return 0; [[ $(date +%s) -gt $deadline ]] && { echo "timeout waiting for $1 >= $2 (is $v)" >&2; return 1; }; sleep 0.05; done
}
now_ms() { date +%s%3N; }

# ---- --grpc / --delta: the same resources over ADS, from bench/xds-grpc-server.js ----------------------------------
ads_field() { sed -n "s/.*\(^\| \)$1=\([^ ]*\).*/\2/p" | head -1; } # a key=value field of the log line on stdin
ads_last() { grep -E "$1" "$WORK/ads.log" | tail -1 || true; }
wait_ads() { # regex timeout_s: waits for a line of the control plane's log and prints it
  local deadline=$(( $(date +%s) + $2 )) line
  while :; do
    line="$(grep -m1 -E "$1" "$WORK/ads.log" || true)"; [[ -n "$line" ]] && { echo "$line"; return 0; }
    kill -0 "$ADS_PID" 2>/dev/null || { echo "the control plane exited: $(tail -5 "$WORK/ads.err")" >&2; return 1; }
    [[ $(date +%s) -gt $deadline ]] && { echo "timeout waiting for '$1' in $WORK/ads.log" >&2; return 1; }
    sleep 0.05
  done
}
stats_of() { # names...: "name value" lines, from one /stats request
  local IFS='|'
  curl -s -G --data-urlencode "filter=^($*)\$" "http://127.0.0.1:$ADMIN/stats" | sed -n 's/^\([^:]*\): /\1 /p'
}
stat_in() { awk -v n="$1" '$1 == n { print $2 }' <<<"$2"; } # name stats_of-output
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$LISTENER$1" || true; }
per_k() { awk -v v="$1" -v n="$N" 'BEGIN { printf "%.1f", v / (n / 1000) }'; } # MiB per 1,000 clusters
run_ads() {
  local api label lds_note deadline
  if [[ $MODE == grpc ]]; then api=GRPC; label="gRPC ADS (state of the world)"; lds_note="LDS sent again unchanged with the new version"
  else api=DELTA_GRPC; label="gRPC ADS (delta)"; lds_note="LDS unchanged, so not sent"; fi
  ADS=$(free_port)
  mkfifo "$WORK/ads.ctl"
  node "$BENCH_DIR/xds-grpc-server.js" --clusters "$N" --endpoints "$E" --upstream "$UPSTREAM" --listener-port "$LISTENER" --port "$ADS" \
    < "$WORK/ads.ctl" > "$WORK/ads.log" 2> "$WORK/ads.err" & ADS_PID=$!; PIDS+=($ADS_PID)
  exec 7> "$WORK/ads.ctl" # the control plane's stdin: "update" lines; it exits when this closes
  wait_ads ' event=listening ' 600 >/dev/null
  local gen1_ms; gen1_ms=$(ads_last ' event=generated gen=1 ' | ads_field ms)
  cat > "$WORK/envoy.yaml" <<YAML
admin: { address: { socket_address: { address: 127.0.0.1, port_value: $ADMIN } } }
node: { id: xds-scale, cluster: bench }
dynamic_resources:
  ads_config:
    api_type: $api
    transport_api_version: V3
    set_node_on_first_message_only: true
    grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ]
  cds_config: { resource_api_version: V3, ads: {} }
  lds_config: { resource_api_version: V3, ads: {} }
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $ADS } } } } ] } ]
YAML
  START=$(now_ms)
  dotnet "$REPO_DIR/src/Gateway.Host/bin/Release/net10.0/gateway.dll" -c "$WORK/envoy.yaml" -l warning > "$WORK/gateway.log" 2>&1 & GW=$!; PIDS+=($GW)
  deadline=$(( $(date +%s) + ${READY_TIMEOUT_S:-900} ))
  until curl -sf "http://127.0.0.1:$ADMIN/ready" >/dev/null 2>&1; do
    sleep 0.1; kill -0 $GW 2>/dev/null || { echo "the gateway exited:" >&2; tail -50 "$WORK/gateway.log" >&2; exit 1; }
    [[ $(date +%s) -le $deadline ]] || { echo "the gateway was not ready after ${READY_TIMEOUT_S:-900} s" >&2; tail -50 "$WORK/gateway.log" >&2; exit 1; }
  done
  local ready_ms=$(( $(now_ms) - START ))
  # Start-up: until the route to c0 (the last route, the one the load uses) and the route to c<N-1> (the last cluster) serve 200.
  local last=$((N - 1))
  until [[ $(http_code /r0) == 200 && $(http_code /r$last) == 200 ]]; do
    sleep 0.05; kill -0 $GW 2>/dev/null || { echo "the gateway exited:" >&2; tail -50 "$WORK/gateway.log" >&2; exit 1; }
    [[ $(date +%s) -le $deadline ]] || { echo "/r0 or /r$last did not serve 200 (last: $(http_code /r0), $(http_code /r$last))" >&2; tail -50 "$WORK/gateway.log" >&2; exit 1; }
  done
  STARTUP=$(( $(now_ms) - START ))
  local acks=() t ts
  for t in cds eds lds rds; do
    ts=$(ads_last " event=ack stream=[0-9]+ type=$t nonce=[0-9]+ gen=1 " | ads_field ts)
    acks+=("${t^^} $([[ -n "$ts" ]] && echo $((ts - START)) || echo -)")
  done
  RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$GW/status)
  HEAP=$(stat server.memory_allocated)
  echo "start-up ($MODE) with $N clusters x $E endpoints and $N routes: ${STARTUP} ms (ready after $ready_ms ms), RSS $((RSS_KB/1024)) MiB, managed heap $((HEAP/1048576)) MiB"

  p99() { sed -n 's/^ *99% *//p' "$1"; }
  wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$LISTENER/r0" > "$WORK/baseline.txt"
  BASE_P99=$(p99 "$WORK/baseline.txt"); BASE_RPS=$(sed -n 's/^Requests\/sec: *//p' "$WORK/baseline.txt")
  echo "baseline: $BASE_RPS req/s, p99 $BASE_P99"

  local load_s=${UPDATE_LOAD_S:-40}
  wrk -t2 -c32 -d${load_s}s --latency "http://127.0.0.1:$LISTENER/r0" > "$WORK/update.txt" & WRK=$!; PIDS+=($WRK)
  local wrk_end=$(( $(now_ms) + load_s * 1000 ))
  sleep 5
  local names=(cluster_manager.cds.update_success listener_manager.lds.update_success http.scale.rds.scale.update_success cluster.c0.update_success "cluster.c$last.update_success")
  local before_all n
  before_all=$(stats_of "${names[@]}")
  T0=$(now_ms); echo update >&7
  local done_line; done_line=$(wait_ads ' event=update_done gen=2 ' "${UPDATE_TIMEOUT_S:-900}") || done_line=""
  local done_at; done_at=$(now_ms)
  local push_ts gen2_ms total_ms
  push_ts=$(ads_last ' event=push gen=2 ' | ads_field ts); gen2_ms=$(ads_last ' event=generated gen=2 ' | ads_field ms)
  total_ms=$(ads_field total_ms <<<"$done_line")
  local per_type=()
  for t in cds eds lds rds; do ts=$(ads_field ${t}_ms <<<"$done_line"); [[ $ts == - ]] && per_type+=("${t^^} not pushed") || per_type+=("${t^^} $ts ms"); done
  # The stats the update should have moved (each ACK is sent once the update was applied, so they should be there
  # already): one /stats request a second, for up to 60 s.
  local stats_ok after_all moved=() b a
  deadline=$(( $(date +%s) + 60 ))
  while :; do
    after_all=$(stats_of "${names[@]}"); stats_ok=1; moved=()
    for n in "${names[@]}"; do
      b=$(stat_in "$n" "$before_all"); a=$(stat_in "$n" "$after_all")
      if [[ $MODE == delta && $n == listener_manager.* ]]; then moved+=("${n%.update_success} $b->$a (not pushed)"); continue; fi
      [[ -n "$a" && -n "$b" && $a -gt $b ]] || stats_ok=0
      moved+=("${n%.update_success} $b->$a")
    done
    [[ $stats_ok -eq 1 || $(date +%s) -gt $deadline ]] && break
    sleep 1
  done
  local stats_ms=$(( $(now_ms) - T0 ))
  RSS2_KB=$(awk '/VmRSS/ {print $2}' /proc/$GW/status)
  HEAP2=$(stat server.memory_allocated)
  wait $WRK || true
  UPD_P99=$(p99 "$WORK/update.txt"); UPD_RPS=$(sed -n 's/^Requests\/sec: *//p' "$WORK/update.txt")
  NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$WORK/update.txt"); ERRS=$(sed -n 's/^ *Socket errors: *//p' "$WORK/update.txt")
  local nacks; nacks=$(grep -c ' event=nack ' "$WORK/ads.log" || true)
  local warnings; warnings=$(grep -ciE 'warn|fail|error|reject|timed out' "$WORK/gateway.log" || true)
  local counters=() c cs cnames=(cluster_manager.cds.update_rejected listener_manager.lds.update_rejected http.scale.rds.scale.update_rejected
    "cluster.c$last.update_rejected" cluster_manager.cds.init_fetch_timeout "cluster.c$last.init_fetch_timeout" control_plane.connected_state)
  cs=$(stats_of "${cnames[@]}")
  for c in "${cnames[@]}"; do counters+=("$c $(stat_in "$c" "$cs")"); done
  mkdir -p "$BENCH_DIR/results"
  OUT="$BENCH_DIR/results/xds-$STAMP.md"
  {
    echo "# xDS scale over $label: $N clusters x $E endpoints, $N routes ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "- mode: \`--$MODE\`: \`ads_config\` \`api_type: $api\`, control plane bench/xds-grpc-server.js (generating the resources took ${gen1_ms} ms)"
    echo "- start-up (gateway start to 200 on /r0 and /r$last): ${STARTUP} ms (admin /ready after ${ready_ms} ms; last initial ACK: $(IFS=,; echo "${acks[*]}" | sed 's/,/ ms, /g') ms); RSS $((RSS_KB/1024)) MiB, managed heap $((HEAP/1048576)) MiB"
    echo "- memory per 1,000 clusters (the whole process's / $(awk -v n=$N 'BEGIN { print n / 1000 }')): RSS $(per_k $((RSS_KB/1024))) MiB, managed heap $(per_k $((HEAP/1048576))) MiB; after the update RSS $(per_k $((RSS2_KB/1024))) MiB"
    echo "- baseline load on the last route (wrk -t2 -c32 -d10s): $BASE_RPS req/s, p99 $BASE_P99"
    if [[ -n "$done_line" ]]; then
      echo "- update pushed (every cluster, every assignment and the route table changed; $lds_note): every type pushed ACKed after ${total_ms} ms ($(IFS=,; echo "${per_type[*]}" | sed 's/,/, /g') after the push; the control plane took ${gen2_ms} ms to generate it first); $( [[ $stats_ok -eq 1 ]] && echo "stats advanced" || echo "stats did NOT all advance") (checked by ${stats_ms} ms after the update command): $(IFS=,; echo "${moved[*]}" | sed 's/,/, /g')"
    else
      echo "- update pushed at $(( ${push_ts:-$T0} - T0 )) ms: NOT every type ACKed within ${UPDATE_TIMEOUT_S:-900} s; stats: $(IFS=,; echo "${moved[*]}" | sed 's/,/, /g')"
    fi
    echo "- during the update (wrk -d${load_s}s): $UPD_RPS req/s, p99 $UPD_P99, non-2xx: ${NON2XX:-0}, socket errors: ${ERRS:-none}; RSS after $((RSS2_KB/1024)) MiB, managed heap $((HEAP2/1048576)) MiB$( [[ $done_at -gt $wrk_end ]] && echo " (the update outlasted the load run)")"
    echo "- NACKs: ${nacks:-0}; gateway log lines with warn/fail/error/reject/timed out: ${warnings:-0}; $(IFS=,; echo "${counters[*]}" | sed 's/,/, /g')"
  } | tee "$OUT"
  if [[ ${nacks:-0} -gt 0 ]]; then echo "NACKs:"; grep ' event=nack ' "$WORK/ads.log" | head -5; fi
  if [[ ${warnings:-0} -gt 0 ]]; then echo "gateway log ($WORK/gateway.log):"; grep -iE 'warn|fail|error|reject|timed out' "$WORK/gateway.log" | head -10; fi
}

[[ $NO_BUILD -eq 1 ]] || dotnet build -c Release "$REPO_DIR/src/Gateway.Host" -v q -nologo >/dev/null
UPSTREAM=$(free_port); LISTENER=$(free_port); ADMIN=$(free_port)
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$UPSTREAM; location / { return 200 "ok\n"; } } }
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)
if [[ $MODE != file ]]; then run_ads; exit 0; fi

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

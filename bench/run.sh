#!/usr/bin/env bash
# bench/run.sh: side-by-side load comparison of the gateway against bare YARP, nginx and haproxy.
#
#   bench/run.sh [--rounds N] [--duration S] [--connections C] [--threads T] [--warmup S]
#                [--targets a,b,c] [--http2] [--tls] [--h2-streams M] [--startup-runs N] [--wait-quiet S]
#                [--smoke] [--no-build] [--no-alloc] [--help]
#
# Everything listens on 127.0.0.1 (free ports picked at start), every load run is bounded in
# time, and every process this script starts is stopped on exit, failure or Ctrl-C.
# HTTP/1.1 targets are driven by wrk, the h2-* (HTTP/2 cleartext) targets by h2load when it is installed;
# the *-tls targets are HTTPS (wrk over TLS, a self-signed ECDSA P-256 certificate generated per run with openssl).
# See bench/README.md for what each target is and how to read the table.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$BENCH_DIR/.work/$STAMP"

# ---- options -------------------------------------------------------------------------------
ROUNDS=3
DURATION=10
CONNECTIONS=64
THREADS=2
WARMUP=30
STARTUP_RUNS=3
WAIT_QUIET=60
SMOKE=0
NO_BUILD=0
NO_ALLOC=0
TARGETS_ARG=""
HTTP2=0
TLS=0
TCP=0
H2_UPSTREAM=0
GRPC=0
H2_STREAMS=10       # h2load -m: concurrent streams per connection for the h2-* targets
UPSTREAM_WORKERS="${UPSTREAM_WORKERS:-1}"   # nginx workers of the upstream (kept constant for every target)
READY_TIMEOUT_S="${READY_TIMEOUT_S:-60}"     # launch -> first 200, per start

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

options:
  --rounds N        rounds; every target runs once per round, order rotated each round (default $ROUNDS)
  --duration S      seconds of measured load per target per round (default $DURATION)
  --connections C   wrk / h2load connections (default $CONNECTIONS)
  --threads T       wrk / h2load threads (default $THREADS)
  --warmup S        seconds of unmeasured load before each measurement (default $WARMUP)
  --targets a,b,c   targets to run (default: ${DEFAULT_TARGETS[*]})
                    known: ${ALL_TARGETS[*]}
  --http2           also run the HTTP/2 (h2c, prior knowledge) targets: ${H2_TARGETS[*]}
                    (driven by h2load; skipped, with a note, when h2load is not installed;
                    --smoke includes them unless --targets is given)
  --tls             also run the HTTPS targets: ${TLS_TARGETS[*]}
                    (keep-alive and one-connection-per-request handshake runs; skipped, with a note, when
                    openssl or TLS support in nginx/haproxy is missing; --smoke includes them unless --targets is given)
  --tcp             also run the TCP proxy targets: ${TCP_TARGETS[*]} (nginx-tcp skipped, with a note, without
                    the stream module)
  --grpc            also run the gRPC targets: ${GRPC_TARGETS[*]} (h2load; skipped, with a note, without h2load or
                    ngx_http_v2_module)
  --h2-upstream     also run the HTTP/2-upstream targets: ${H2_UPSTREAM_TARGETS[*]} (HTTP/1.1 clients, the upstream's
                    h2c port; skipped, with a note, when nginx lacks ngx_http_v2_module)
  --h2-streams M    h2load -m: concurrent streams per connection for the h2-* targets (default $H2_STREAMS)
  --startup-runs N  launches per start-up-only config (default $STARTUP_RUNS)
  --wait-quiet S    before each measurement wait up to S s until other processes use <= 10% CPU
                    (the machine may be shared; 0 = do not wait; default $WAIT_QUIET)
  --smoke           1 round, 2 s per target, no warm-up, 1 start-up run; report goes to bench/.work/
  --no-build        do not build (use the existing Release outputs)
  --no-alloc        do not measure allocated bytes per request (dotnet-counters) for the .NET targets
environment: UPSTREAM_WORKERS (default 1), READY_TIMEOUT_S (default 60), GATEWAY_EXTRA_ARGS,
  DOTNET_COUNTERS (path of dotnet-counters; default: PATH, then ~/.dotnet/tools),
  H2LOAD (path or name of h2load; default: h2load in PATH)
EOF
}

# ---- target hooks ----------------------------------------------------------------------------
# To add a load target NAME (a '-' in NAME becomes '_' in the function names):
#   1. add NAME to ALL_TARGETS (and to DEFAULT_TARGETS if it should run by default);
#   2. optionally define  prepare_NAME : runs once before the rounds (generate config, validate).
#      To skip the target, set SKIP_REASON="why" and return 1. Failing to prepare for another
#      reason: set FAIL_REASON and return 1 (the run then exits non-zero).
#   3. define  start_NAME : start the proxy with start_bg (so it is tracked and stopped) and set
#        TARGET_URL        the URL wrk and the readiness probe hit
#        TARGET_RSS_PIDS   pids whose VmHWM (plus their direct children's) is reported as peak RSS
#        TARGET_HDRS       extra request headers, as curl/wrk arguments: (-H "name: value")
#        TARGET_ALLOC_PID  (.NET targets only) pid of the .NET process whose allocated bytes per
#                          request are measured with dotnet-counters; leave empty for the others
#        TARGET_PROTO      "h2c" for an HTTP/2 cleartext (prior knowledge) listener: curl probes it with
#                          --http2-prior-knowledge and h2load drives it; default "h1" (wrk)
#      HTTP/2 targets are named h2-* (listed in H2_TARGETS); their prepare_NAME should call
#      h2_prepare first, which skips the target when h2load (or HTTP/2 in curl) is missing.
# run_target_round does the rest: readiness (measured as start-up time), a body check, warm-up,
# the measured wrk run (with allocation sampling for .NET targets), peak RSS, and stopping what
# start_NAME started.
#
# Start-up-only configs (no load, launched STARTUP_RUNS times each; launch -> first proxied 200):
# add NAME to STARTUP_ONLY and define prepare_startup_NAME (optional) and start_startup_NAME
# exactly like the load targets.
DEFAULT_TARGETS=(direct bare-yarp nginx haproxy gateway-simple gateway-retry gateway-realistic gateway-filters gateway-noop5 gateway-observed gateway-observed100 gateway-split)
# HTTP/2 cleartext variants: not in the default run (they would add ~70% to it); --http2, --smoke or
# --targets selects them.
H2_TARGETS=(h2-direct h2-bare-yarp h2-nginx h2-haproxy h2-gateway-simple)
# gateway-observed's halves, to attribute its cost (only with --targets): tracing alone, the access log alone.
# gateway-notimers: gateway-simple with the HCM's per-stream timers off (stream_idle_timeout: 0s), to price them.
# gateway-nodelayedclose: gateway-simple without the delayed close's transport wrapper (delayed_close_timeout: 0s).
DIAGNOSTIC_TARGETS=(gateway-observedtrace gateway-observedlog gateway-notimers gateway-nodelayedclose)
# HTTPS (TLS termination at the proxy, HTTP/1.1 upstream): keep-alive (*-tls) and a new TLS connection per request
# (*-tls-handshake: wrk -H "Connection: close", requests/s = full handshakes/s). Not in the default run; --tls,
# --smoke or --targets selects them.
TLS_TARGETS=(nginx-tls haproxy-tls gateway-tls nginx-tls-handshake haproxy-tls-handshake gateway-tls-handshake)
# TCP proxies (L4: HTTP/1.1 bytes passed through to the same upstream; wrk's keep-alive connections each become one
# upstream connection): the gateway's tcp_proxy against haproxy `mode tcp` and nginx `stream`. --tcp or --targets.
TCP_TARGETS=(gateway-tcp haproxy-tcp nginx-tcp)
# HTTP/2 to the upstream (wrk's HTTP/1.1 in front, the upstream nginx's h2c port behind): the gateway's cluster with
# explicit_http_config.http2_protocol_options against haproxy `server ... proto h2` (nginx cannot proxy to HTTP/2).
# --h2-upstream or --targets.
H2_UPSTREAM_TARGETS=(gateway-h2-upstream haproxy-h2-upstream)
# gRPC unary calls (h2load: POST of one framed EchoRequest, content-type application/grpc, te: trailers) over h2c both
# sides, to a fixed gRPC answer the upstream nginx serves (one framed EchoReply, trailer grpc-status 0): the gateway
# against nginx grpc_pass and haproxy proto h2. A call counts when the first answer carried grpc-status 0. --grpc or --targets.
GRPC_TARGETS=(grpc-direct gateway-grpc nginx-grpc haproxy-grpc)
ALL_TARGETS=("${DEFAULT_TARGETS[@]}" "${H2_TARGETS[@]}" "${TLS_TARGETS[@]}" "${DIAGNOSTIC_TARGETS[@]}" "${TCP_TARGETS[@]}" "${H2_UPSTREAM_TARGETS[@]}" "${GRPC_TARGETS[@]}")
STARTUP_ONLY=(gateway-10k-routes)

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --targets) TARGETS_ARG="$2"; shift 2 ;;
        --http2) HTTP2=1; shift ;;
        --tls) TLS=1; shift ;;
        --tcp) TCP=1; shift ;;
        --h2-upstream) H2_UPSTREAM=1; shift ;;
        --grpc) GRPC=1; shift ;;
        --h2-streams) H2_STREAMS="$2"; shift 2 ;;
        --startup-runs) STARTUP_RUNS="$2"; shift 2 ;;
        --wait-quiet) WAIT_QUIET="$2"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --no-build) NO_BUILD=1; shift ;;
        --no-alloc) NO_ALLOC=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [[ $SMOKE == 1 ]]; then
    ROUNDS=1; DURATION=2; WARMUP=0; STARTUP_RUNS=1; WAIT_QUIET=0
fi
for v in ROUNDS DURATION CONNECTIONS THREADS WARMUP STARTUP_RUNS WAIT_QUIET H2_STREAMS; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]]; then echo "run.sh: ${v,,} must be a whole number, got '${!v}'" >&2; exit 2; fi
done
if (( ROUNDS < 1 || DURATION < 1 || CONNECTIONS < 1 || THREADS < 1 || H2_STREAMS < 1 )); then
    echo "run.sh: rounds, duration, connections, threads and h2-streams must be at least 1" >&2; exit 2
fi
if (( THREADS > CONNECTIONS )); then echo "run.sh: --threads must not exceed --connections" >&2; exit 2; fi

if [[ -n $TARGETS_ARG ]]; then
    IFS=',' read -r -a TARGETS <<<"$TARGETS_ARG"
    for t in "${TARGETS[@]}"; do
        known=0
        for k in "${ALL_TARGETS[@]}"; do [[ $t == "$k" ]] && known=1; done
        if [[ $known == 0 ]]; then echo "run.sh: unknown target '$t' (known: ${ALL_TARGETS[*]})" >&2; exit 2; fi
    done
else
    TARGETS=("${DEFAULT_TARGETS[@]}")
    [[ $SMOKE == 1 ]] && HTTP2=1   # the smoke run checks the h2 code path too (skipped without h2load)
    [[ $SMOKE == 1 ]] && TLS=1     # and the TLS one (skipped without openssl)
fi
if [[ $HTTP2 == 1 ]]; then
    for t in "${H2_TARGETS[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
    done
fi
if [[ $TLS == 1 ]]; then
    for t in "${TLS_TARGETS[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
    done
fi
if [[ $TCP == 1 ]]; then
    for t in "${TCP_TARGETS[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
    done
fi
if [[ $H2_UPSTREAM == 1 ]]; then
    for t in "${H2_UPSTREAM_TARGETS[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
    done
fi
if [[ $GRPC == 1 ]]; then
    for t in "${GRPC_TARGETS[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
    done
fi
has_grpc_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == *grpc* ]] && return 0; done; return 1; }

log() { printf '[run.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
has_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
has_gateway_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == gateway-* || $t == h2-gateway-* ]] && return 0; done; return 1; }
has_h1_gateway_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == gateway-* ]] && return 0; done; return 1; }
has_h2_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == h2-* || $t == *grpc* ]] && return 0; done; return 1; }
has_tls_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == *-tls || $t == *-tls-handshake ]] && return 0; done; return 1; }
has_bare_yarp_target() { has_target bare-yarp || has_target h2-bare-yarp; }
has_dotnet_target() { has_bare_yarp_target || has_gateway_target; }

# ---- tools -----------------------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1  -> $2"); }
need python3 "apt-get install python3"
need curl "apt-get install curl"
need wrk "apt-get install wrk"
need nginx "apt-get install nginx-light"      # always: it is the upstream
if has_target haproxy || has_target h2-haproxy || has_target haproxy-tls || has_target haproxy-tls-handshake || has_target haproxy-tcp || has_target haproxy-h2-upstream || has_target haproxy-grpc; then need haproxy "apt-get install haproxy"; fi
need dotnet "install the .NET 10 SDK (https://dot.net/v1/dotnet-install.sh --channel 10.0)"
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "run.sh: missing tools (nothing was installed; install them and re-run):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    echo "  e.g. apt-get install -y wrk nginx-light haproxy curl python3" >&2
    exit 3
fi

# Optional: dotnet-counters, for "alloc B/req" of the .NET targets. Never installed by this script;
# without it the column is "-" and the run goes on.
DOTNET_COUNTERS_INSTALL="dotnet tool install -g dotnet-counters --version 10.0.750501"
DOTNET_COUNTERS_BIN=""
ALLOC_NOTE=""
if has_dotnet_target; then
    if [[ $NO_ALLOC == 1 ]]; then
        ALLOC_NOTE="not measured (--no-alloc)"
    elif [[ -n ${DOTNET_COUNTERS:-} ]]; then
        if [[ -x $DOTNET_COUNTERS ]] || command -v "$DOTNET_COUNTERS" >/dev/null 2>&1; then
            DOTNET_COUNTERS_BIN="$DOTNET_COUNTERS"
        else
            ALLOC_NOTE="not measured: DOTNET_COUNTERS=$DOTNET_COUNTERS is not an executable"
        fi
    elif command -v dotnet-counters >/dev/null 2>&1; then
        DOTNET_COUNTERS_BIN="$(command -v dotnet-counters)"
    elif [[ -x ${HOME:-/nonexistent}/.dotnet/tools/dotnet-counters ]]; then
        DOTNET_COUNTERS_BIN="$HOME/.dotnet/tools/dotnet-counters"
    else
        ALLOC_NOTE="not measured: dotnet-counters not found (install it with: $DOTNET_COUNTERS_INSTALL)"
    fi
    if [[ -n $ALLOC_NOTE ]]; then
        printf '[run.sh] note: alloc B/req will be "-": %s\n' "$ALLOC_NOTE" >&2
    fi
fi

# Optional: h2load (Debian/Ubuntu: nghttp2-client), for the h2-* targets. Never installed by this script;
# without it (or without HTTP/2 in curl, which probes those targets) they are skipped with the reason.
H2LOAD_BIN=""
H2_SKIP=""
if has_h2_target; then
    H2LOAD="${H2LOAD:-h2load}"
    if [[ $H2LOAD == */* && -x $H2LOAD ]] || { [[ $H2LOAD != */* ]] && command -v "$H2LOAD" >/dev/null 2>&1; }; then
        H2LOAD_BIN="$(command -v "$H2LOAD")"
    else
        H2_SKIP="h2load not found (H2LOAD=$H2LOAD); install it with: apt-get install nghttp2-client (run.sh never installs it)"
    fi
    if [[ -z $H2_SKIP ]] && has_grpc_target && ! command -v nghttp >/dev/null 2>&1; then
        H2_SKIP="nghttp not found (it probes the gRPC targets' trailers); install it with: apt-get install nghttp2-client"
    fi
    if [[ -z $H2_SKIP ]] && ! curl -V 2>/dev/null | grep -qw HTTP2; then
        H2_SKIP="this curl has no HTTP/2 support (curl -V lists no HTTP2 feature); it is needed to probe the h2c listeners"
    fi
    if [[ -n $H2_SKIP ]]; then
        printf '[run.sh] note: the HTTP/2 targets will be skipped: %s\n' "$H2_SKIP" >&2
    fi
fi
# nginx needs ngx_http_v2_module for h2-direct and h2-nginx (Debian's nginx-light has it).
NGINX_H2_SKIP=""
if has_target h2-direct || has_target h2-nginx; then
    nginx -V 2>&1 | grep -q -- '--with-http_v2_module' || NGINX_H2_SKIP="this nginx is built without ngx_http_v2_module"
fi
# Optional: openssl (generates the certificate, probes what each TLS target negotiates); nginx needs
# ngx_http_ssl_module and haproxy OpenSSL for their *-tls targets. Missing: those targets are skipped with the reason.
TLS_SKIP=""; NGINX_TLS_SKIP=""; HAPROXY_TLS_SKIP=""
if has_tls_target; then
    command -v openssl >/dev/null 2>&1 || TLS_SKIP="openssl not found; install it with: apt-get install openssl (run.sh never installs it)"
    # (the outputs are read whole first: with pipefail, `grep -q` closing the pipe early would fail the check)
    [[ $(nginx -V 2>&1) == *--with-http_ssl_module* ]] || NGINX_TLS_SKIP="this nginx is built without ngx_http_ssl_module"
    if command -v haproxy >/dev/null 2>&1 && [[ $(haproxy -vv 2>&1) != *USE_OPENSSL=1* ]]; then
        HAPROXY_TLS_SKIP="this haproxy is built without OpenSSL"
    fi
    [[ -n $TLS_SKIP ]] && printf '[run.sh] note: the TLS targets will be skipped: %s\n' "$TLS_SKIP" >&2
fi

mkdir -p "$WORK"
RAW="$WORK/raw.tsv"; STARTUP_TSV="$WORK/startup.tsv"; SKIPPED_TSV="$WORK/skipped.tsv"; TLS_TSV="$WORK/tls.tsv"
: >"$RAW"; : >"$STARTUP_TSV"; : >"$SKIPPED_TSV"; : >"$TLS_TSV"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The recommended production setting for the .NET proxies (deploy/Dockerfile sets it too): this VM reports
# no CPU cache sizes, so the GC picks a tiny gen0 budget and collects constantly; 64 MiB doubled
# requests/s here. Both .NET targets get it, so the gateway/bare-YARP ratio compares code, not knobs.
# Override with DOTNET_GCgen0size=... in the environment, or unset it with DOTNET_GCgen0size= .
export DOTNET_GCgen0size="${DOTNET_GCgen0size-0x4000000}"
[ -n "$DOTNET_GCgen0size" ] || unset DOTNET_GCgen0size
unset ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS ASPNETCORE_HTTPS_PORTS DOTNET_URLS 2>/dev/null || true
RUN_FAILED=0

# ---- process tracking and cleanup -------------------------------------------------------------
STARTED_PIDS=()     # everything still running that this script started
TARGET_STARTED=()   # what the current target's start function started
LAUNCH_NS=""        # when the current target's first process was launched

children_of() { cat "/proc/$1/task/"*/children 2>/dev/null || true; }

# start_bg LOGFILE CMD...: start CMD in the background, tracked; sets LAST_PID.
start_bg() {
    local logfile="$1"; shift
    [[ -z $LAUNCH_NS ]] && LAUNCH_NS="$(date +%s%N)"
    "$@" >"$logfile" 2>&1 &
    LAST_PID=$!
    STARTED_PIDS+=("$LAST_PID")
    TARGET_STARTED+=("$LAST_PID")
}

forget_pid() {
    local p keep=()
    for p in "${STARTED_PIDS[@]}"; do [[ $p != "$1" ]] && keep+=("$p"); done
    STARTED_PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop_pid PID: TERM, wait up to 5 s, then KILL the process and any children it left.
stop_pid() {
    local pid="$1" kids i
    kids="$(children_of "$pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for i in $kids; do kill -KILL "$i" 2>/dev/null || true; done
    forget_pid "$pid"
}

stop_target() {
    local i
    for ((i = ${#TARGET_STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${TARGET_STARTED[i]}"; done
    TARGET_STARTED=()
}

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[i]}"; done
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# ---- helpers ---------------------------------------------------------------------------------
# free_port VAR: a free 127.0.0.1 port (asked of the kernel), never one this run already handed out.
USED_PORTS=" "
free_port() {
    local p
    while :; do
        p="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
        if [[ $USED_PORTS != *" $p "* ]]; then USED_PORTS+="$p "; printf -v "$1" '%s' "$p"; return; fi
    done
}

# curl_proto_args [URL]: sets CURL_PROTO (curl arguments for TARGET_PROTO, and for an https URL, default
# TARGET_URL: HTTP/1.1, verified against the run's certificate).
curl_proto_args() {
    CURL_PROTO=()
    [[ ${TARGET_PROTO:-h1} == h2c ]] && CURL_PROTO=(--http2-prior-knowledge)
    [[ ${1:-${TARGET_URL:-}} == https://* ]] && CURL_PROTO=(--http1.1 --cacert "$TLS_CERT")
    return 0
}

# wait_ready URL: poll every 10 ms until a 200 arrives; sets STARTUP_MS (launch -> first 200).
wait_ready() {
    local url="$1" deadline code now pid
    deadline=$(( $(date +%s%N) + READY_TIMEOUT_S * 1000000000 ))
    curl_proto_args "$url"
    while :; do
        if [[ -n ${TARGET_DATA:-} ]]; then
            # A gRPC call: the answer counts when it is 200 with grpc-status 0 (a gateway's local reply is 200 too).
            # curl shows no trailers: nghttp (nghttp2-client, with h2load) prints every header frame it receives.
            code="$(nghttp -nv -t 1 "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" -d "$TARGET_DATA" "$url" 2>/dev/null | awk '/recv \(stream_id=[0-9]+\) :status:/ { code = $NF } /recv \(stream_id=[0-9]+\) grpc-status:/ { grpc = $NF } END { print (code == 200 && grpc == "0") ? 200 : code "/grpc-status " grpc }' || true)"
        else
            code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "${CURL_PROTO[@]+"${CURL_PROTO[@]}"}" "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" "$url" 2>/dev/null || true)"
        fi
        now="$(date +%s%N)"
        if [[ $code == 200 ]]; then
            if [[ -n $LAUNCH_NS ]]; then STARTUP_MS=$(( (now - LAUNCH_NS) / 1000000 )); else STARTUP_MS="-"; fi
            return 0
        fi
        for pid in "${TARGET_STARTED[@]+"${TARGET_STARTED[@]}"}"; do
            if ! kill -0 "$pid" 2>/dev/null; then READY_ERR="process $pid exited before answering (last HTTP code '$code')"; return 1; fi
        done
        if (( now > deadline )); then READY_ERR="no 200 from $url within ${READY_TIMEOUT_S}s (last HTTP code '$code')"; return 1; fi
        sleep 0.01
    done
}

# run_wrk SECONDS OUTFILE: one bounded wrk run against TARGET_URL.
run_wrk() {
    local secs="$1" out="$2" pid rc=0
    timeout -k 5 $(( secs + 30 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency --timeout 5s \
        "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" "$TARGET_URL" >"$out" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
}

# run_h2load SECONDS OUTFILE: one bounded h2load run (HTTP/2 prior knowledge, timing-based) against TARGET_URL.
run_h2load() {
    local secs="$1" out="$2" pid rc=0
    # h2load takes TARGET_HDRS' (-H "name: value") form as it is.
    local data=()
    [[ -n ${TARGET_DATA:-} ]] && data=(-d "$TARGET_DATA")
    timeout -k 5 $(( secs + 30 )) "$H2LOAD_BIN" -t"$THREADS" -c"$CONNECTIONS" -m"$H2_STREAMS" -D"$secs" \
        "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" "${data[@]+"${data[@]}"}" "$TARGET_URL" >"$out" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
}

# run_load SECONDS OUTFILE: wrk, or h2load for an h2c target.
run_load() {
    if [[ ${TARGET_PROTO:-h1} == h2c ]]; then run_h2load "$@"; else run_wrk "$@"; fi
}

# peak_rss_kb: VmHWM of TARGET_RSS_PIDS and their direct children, summed (kB), or "-".
peak_rss_kb() {
    local total=0 any=0 p kid v
    for p in "${TARGET_RSS_PIDS[@]+"${TARGET_RSS_PIDS[@]}"}"; do
        for kid in "$p" $(children_of "$p"); do
            v="$(awk '/^VmHWM:/ {print $2}' "/proc/$kid/status" 2>/dev/null || true)"
            if [[ -n $v ]]; then total=$(( total + v )); any=1; fi
        done
    done
    if [[ $any == 1 ]]; then echo "$total"; else echo "-"; fi
}

# CPU accounting, to tell how much of the machine something else used during a measured run
# (the machine may be shared): all in clock ticks, as /proc/stat and /proc/<pid>/stat count them.
CLK_TCK="$(getconf CLK_TCK)"
cpu_total_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }  # busy total
pids_ticks() { # utime+stime of the given pids and their direct children
    local p kid sum=0 v
    for p in "$@"; do
        for kid in "$p" $(children_of "$p"); do
            v="$(sed 's/^.*) //' "/proc/$kid/stat" 2>/dev/null | awk '{print $12+$13}' || true)"
            [[ -n $v ]] && sum=$(( sum + v ))
        done
    done
    echo "$sum"
}
# ticks of this shell's reaped children (wrk, via timeout, once waited for)
reaped_ticks() { sed 's/^.*) //' /proc/$$/stat | awk '{print $14+$15}'; }
ours_ticks() { echo $(( $(pids_ticks "$UPSTREAM_PID" "${TARGET_STARTED[@]+"${TARGET_STARTED[@]}"}" ${COUNTERS_PID:-}) + $(reaped_ticks) )); }
# other_pct BUSY0 TOTAL0 OURS0 BUSY1 TOTAL1 OURS1: busy ticks not ours, as % of all CPU ticks
other_pct() {
    awk -v busy=$(( $4 - $1 )) -v total=$(( $5 - $2 )) -v ours=$(( $6 - $3 )) \
        'BEGIN { o = busy - ours; if (o < 0) o = 0; printf "%.0f", (total > 0 ? 100 * o / total : 0) }'
}
# wait_quiet: before a measurement, wait (at most WAIT_QUIET s) until other processes use <= 10% CPU.
wait_quiet() {
    (( WAIT_QUIET > 0 )) || return 0
    local deadline=$(( SECONDS + WAIT_QUIET )) a b oa ob other waited=0
    while :; do
        read -r -a a <<<"$(cpu_total_ticks)"; oa="$(ours_ticks)"
        sleep 1
        read -r -a b <<<"$(cpu_total_ticks)"; ob="$(ours_ticks)"
        other="$(other_pct "${a[0]}" "${a[1]}" "$oa" "${b[0]}" "${b[1]}" "$ob")"
        if (( other <= 10 )); then
            (( waited )) && log "machine quiet again (${other}% other CPU)"
            return 0
        fi
        if (( SECONDS >= deadline )); then log "other processes still use ${other}% CPU after ${WAIT_QUIET}s; measuring anyway"; return 0; fi
        (( waited )) || log "other processes use ${other}% CPU; waiting up to ${WAIT_QUIET}s for quiet"
        waited=1
    done
}

tail_log() { [[ -f $1 ]] && tail -n "${2:-5}" "$1" | tr '\n\t' '  ' | cut -c1-400; }

# Allocated bytes per request (.NET targets). dotnet-counters samples the runtime's
# dotnet.gc.heap.total_allocated (System.Runtime meter, .NET 9+: an ObservableCounter of the bytes
# allocated since the process started). dotnet-counters prints it as a rate: one row per second with
# the bytes allocated in that second, so the sum of the rows is "cumulative at the end of the
# session - cumulative at its start". The session starts before the measured wrk run (with the proxy
# idle) and ends after it; report.py checks that the first and the last rows are idle (so the wrk
# window is inside the session), sums the rows in between and divides by wrk's request count.
# dotnet-counters writes its CSV only when it stops by itself (it drops it on SIGINT/SIGTERM), hence
# --duration. Its own cost in the proxy is one counter read per second.
ALLOC_COUNTER="dotnet.gc.heap.total_allocated"
# The same session reads the JIT's compile time: a warm-up that did not reach steady state shows up as JIT ms.
JIT_COUNTER="dotnet.jit.compilation.time"
JIT_RESULT="-"
ALLOC_LEAD_S=2.5     # session live -> wrk start: the baseline read and one idle row come first
COUNTERS_PID=""
TARGET_ALLOC_PID=""
TARGET_PROTO=h1
ALLOC_RESULT="-"
ALLOC_ERR=""
# alloc_start PID CSV LOG: start a session on PID; 0 when it is live (COUNTERS_PID set), else 1 (ALLOC_ERR).
alloc_start() {
    local pid="$1" csv="$2" logf="$3" secs i
    COUNTERS_PID=""; ALLOC_ERR=""
    rm -f "$csv"
    secs=$(( DURATION + 8 ))   # lead + wrk + at least 2 idle rows after it
    timeout -k 5 $(( secs + 60 )) "$DOTNET_COUNTERS_BIN" collect -p "$pid" --counters "System.Runtime[$ALLOC_COUNTER,$JIT_COUNTER]" \
        --format csv -o "$csv" --refresh-interval 1 \
        --duration "$(printf '00:%02d:%02d:%02d' $(( secs / 3600 )) $(( secs / 60 % 60 )) $(( secs % 60 )))" \
        </dev/null >"$logf" 2>&1 &
    COUNTERS_PID=$!
    STARTED_PIDS+=("$COUNTERS_PID")
    for ((i = 0; i < 600; i++)); do   # up to 30 s for the tool to start and attach
        if grep -q 'Starting a counter session' "$logf" 2>/dev/null; then sleep "$ALLOC_LEAD_S"; return 0; fi
        kill -0 "$COUNTERS_PID" 2>/dev/null || break
        sleep 0.05
    done
    ALLOC_ERR="dotnet-counters did not start a session: $(tail_log "$logf" 3)"
    alloc_stop
    return 1
}
alloc_stop() { # kill the session (its CSV is lost)
    [[ -n $COUNTERS_PID ]] && stop_pid "$COUNTERS_PID"
    COUNTERS_PID=""
}
# alloc_finish CSV REQUESTS: right after the measured wrk run. Sets ALLOC_RESULT to the bytes per
# request, or to "-" with the reason in ALLOC_ERR. (Not for $(...): it waits for COUNTERS_PID.)
alloc_finish() {
    local csv="$1" reqs="$2" rc=0 out
    ALLOC_RESULT="-"; ALLOC_ERR=""; JIT_RESULT="-"
    [[ -n $COUNTERS_PID ]] || { ALLOC_ERR="no dotnet-counters session"; return; }
    if ! kill -0 "$COUNTERS_PID" 2>/dev/null; then
        wait "$COUNTERS_PID" 2>/dev/null || true; forget_pid "$COUNTERS_PID"; COUNTERS_PID=""
        ALLOC_ERR="the dotnet-counters session ended before the wrk run did"; return
    fi
    wait "$COUNTERS_PID" || rc=$?   # bounded: --duration, and timeout around it
    forget_pid "$COUNTERS_PID"; COUNTERS_PID=""
    if [[ $rc != 0 ]]; then ALLOC_ERR="dotnet-counters exited with $rc: $(tail_log "${csv%.csv}.log" 3)"; return; fi
    if ! out="$(python3 "$BENCH_DIR/report.py" alloc-csv "$csv" "$reqs" --counter "$ALLOC_COUNTER" 2>&1)"; then
        ALLOC_ERR="$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-300)"; return
    fi
    ALLOC_RESULT="$out"
    JIT_RESULT="$(python3 "$BENCH_DIR/report.py" counter-sum "$csv" --counter "$JIT_COUNTER" --scale 1000 2>/dev/null || echo -)"
}

# ---- build -----------------------------------------------------------------------------------
GATEWAY_DLL="$REPO_DIR/src/Gateway.Host/bin/Release/net10.0/gateway.dll"
BAREYARP_DLL="$BENCH_DIR/BareYarp/bin/Release/net10.0/bare-yarp.dll"
GATEWAY_BUILD_ERR=""

build_one() { # NAME PROJECT LOG
    log "building $1 (Release)"
    if ! timeout 900 dotnet build -c Release -nologo -v q --disable-build-servers "$2" >"$3" 2>&1; then
        return 1
    fi
}

if [[ $NO_BUILD == 0 ]]; then
    if has_bare_yarp_target; then
        build_one bare-yarp "$BENCH_DIR/BareYarp" "$WORK/build-bare-yarp.log" || {
            log "bare-yarp did not build; see $WORK/build-bare-yarp.log"; tail -n 20 "$WORK/build-bare-yarp.log" >&2; exit 1; }
    fi
    if has_gateway_target; then
        if ! build_one gateway "$REPO_DIR/src/Gateway.Host" "$WORK/build-gateway.log"; then
            local_errs="$(grep -E ' error [A-Z]+[0-9]+' "$WORK/build-gateway.log" | sed -e 's/^ *//' -e "s#$REPO_DIR/##g" -e 's/ \[[^]]*\]$//' | awk '!seen[$0]++' || true)"
            GATEWAY_BUILD_ERR="gateway did not build ($(printf '%s\n' "$local_errs" | grep -c . || true) distinct errors; first: $(printf '%s\n' "$local_errs" | head -n 1 | cut -c1-300)) (log: $WORK/build-gateway.log)"
        fi
    fi
fi
if has_gateway_target && [[ -z $GATEWAY_BUILD_ERR && ! -f $GATEWAY_DLL ]]; then
    GATEWAY_BUILD_ERR="$GATEWAY_DLL does not exist"
fi
if has_bare_yarp_target && [[ ! -f $BAREYARP_DLL ]]; then
    echo "run.sh: $BAREYARP_DLL does not exist (run without --no-build)" >&2; exit 1
fi

# ---- upstream: nginx on three ports, fixed 'hello' body, keepalive ----------------------------
free_port up0; free_port up1; free_port up2
UP_PORTS=("$up0" "$up1" "$up2")
UPSTREAM_URL="http://127.0.0.1:${UP_PORTS[0]}/"
# h2-direct: a fourth server of the same nginx, HTTP/2 cleartext only (nginx 1.22: `listen ... http2`
# without ssl takes prior-knowledge HTTP/2 only), same body. Only when h2-direct can run.
UP_H2_PORT=""
UP_GRPC_PORT=""
if has_grpc_target && [[ -z $H2_SKIP && -z $NGINX_H2_SKIP ]]; then free_port UP_GRPC_PORT; fi
if [[ -z $NGINX_H2_SKIP ]] && { { has_target h2-direct && [[ -z $H2_SKIP ]]; } || has_target gateway-h2-upstream || has_target haproxy-h2-upstream; }; then
    free_port UP_H2_PORT
fi
mkdir -p "$WORK/upstream/tmp"
{
    echo "worker_processes $UPSTREAM_WORKERS;"
    echo "pid $WORK/upstream/nginx.pid;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  keepalive_requests 1000000;"
    echo "  keepalive_timeout 75s;"
    echo "  client_body_temp_path $WORK/upstream/tmp/body;"
    echo "  proxy_temp_path $WORK/upstream/tmp/proxy;"
    for p in "${UP_PORTS[@]}"; do
        echo "  server { listen 127.0.0.1:$p backlog=4096; location / { default_type text/plain; return 200 'hello'; } }"
    done
    if [[ -n $UP_H2_PORT ]]; then
        echo "  server { listen 127.0.0.1:$UP_H2_PORT http2 backlog=4096; location / { default_type text/plain; return 200 'hello'; } }"
    fi
    if [[ -n $UP_GRPC_PORT ]]; then
        # A fixed unary answer: nginx's static module refuses POST (405), which error_page turns into a 200 GET of the
        # framed reply, with grpc-status as a trailer.
        echo "  server { listen 127.0.0.1:$UP_GRPC_PORT http2 backlog=4096;"
        echo "    location / { error_page 405 =200 /grpc-reply; return 405; }"
        echo "    location = /grpc-reply { internal; default_type application/grpc; add_trailer grpc-status 0 always; alias $WORK/upstream/grpc-reply.bin; } }"
    fi
    echo "}"
} >"$WORK/upstream/nginx.conf"

# The gRPC unary call the grpc targets make (gateway.tests.echo.Echo/Unary) and its fixed answer: 5-byte frame headers,
# then EchoRequest/EchoReply { message: "hello" } (field 1, length-delimited).
if [[ -n $UP_GRPC_PORT ]]; then
    printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$WORK/upstream/grpc-reply.bin"
    printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$WORK/upstream/grpc-request.bin"
fi
GRPC_PATH=/gateway.tests.echo.Echo/Unary
grpc_call() { # the gRPC call's headers and body on the current target (TARGET_URL's path replaced)
    TARGET_URL="${TARGET_URL%/}$GRPC_PATH"
    TARGET_HDRS=(-H "content-type: application/grpc" -H "te: trailers")
    TARGET_DATA="$WORK/upstream/grpc-request.bin"
    TARGET_PROTO=h2c
}
grpc_prepare() {
    h2_prepare || return 1
    if [[ -n $NGINX_H2_SKIP ]]; then SKIP_REASON="$NGINX_H2_SKIP"; return 1; fi
    return 0
}

start_upstream() {
    TARGET_STARTED=()
    start_bg "$WORK/upstream/stdout.log" nginx -p "$WORK/upstream/" -c "$WORK/upstream/nginx.conf" -e "$WORK/upstream/error.log" -g 'daemon off;'
    UPSTREAM_PID=$LAST_PID
    TARGET_HDRS=()
    local p
    TARGET_PROTO=h1
    for p in "${UP_PORTS[@]}" ${UP_H2_PORT:+h2c:$UP_H2_PORT}; do
        [[ $p == h2c:* ]] && { TARGET_PROTO=h2c; p="${p#h2c:}"; }
        if ! wait_ready "http://127.0.0.1:$p/"; then
            echo "run.sh: upstream nginx did not start: $READY_ERR; $(tail_log "$WORK/upstream/error.log")" >&2; exit 1
        fi
    done
    TARGET_PROTO=h1
    TARGET_STARTED=()   # the upstream lives for the whole run (stopped by cleanup)
    LAUNCH_NS=""
}

# ---- targets ---------------------------------------------------------------------------------
# direct: wrk straight at the upstream nginx. The ceiling.
start_direct() {
    TARGET_URL="$UPSTREAM_URL"
    TARGET_RSS_PIDS=()
}

# h2_prepare: for the h2-* targets; skips them when h2load (or HTTP/2 in curl) is missing.
h2_prepare() {
    if [[ -n $H2_SKIP ]]; then SKIP_REASON="$H2_SKIP"; return 1; fi
    return 0
}

# h2-direct: h2load straight at the upstream nginx's HTTP/2 cleartext server (UP_H2_PORT). The h2 ceiling.
prepare_h2_direct() {
    h2_prepare || return 1
    if [[ -n $NGINX_H2_SKIP ]]; then SKIP_REASON="$NGINX_H2_SKIP"; return 1; fi
    return 0
}
start_h2_direct() {
    TARGET_URL="http://127.0.0.1:$UP_H2_PORT/"
    TARGET_RSS_PIDS=()
    TARGET_PROTO=h2c
}

# bare-yarp: bench/BareYarp, one catch-all route, one destination. The floor for the gateway.
# bare_yarp_start NAME [ARGS...]
bare_yarp_start() {
    local name="$1" port; shift; free_port port
    start_bg "$WORK/$name.r$ROUND.log" dotnet "$BAREYARP_DLL" --upstream "http://127.0.0.1:${UP_PORTS[0]}" --port "$port" "$@"
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
    TARGET_ALLOC_PID="$LAST_PID"
}
start_bare_yarp() { bare_yarp_start bare-yarp; }
# h2-bare-yarp: the same with its Kestrel endpoint HTTP/2 only (h2c prior knowledge); HTTP/1.1 upstream.
prepare_h2_bare_yarp() { h2_prepare; }
start_h2_bare_yarp() { bare_yarp_start h2-bare-yarp --http2; TARGET_PROTO=h2c; }

# nginx: reverse proxy with an upstream keepalive pool, worker_processes auto.
# nginx_proxy_start DIRNAME [LISTEN_FLAGS [SERVER_DIRECTIVES]]
nginx_proxy_start() {
    local port dir flags="${2:+ $2}" server_extra="${3:-}"; free_port port; dir="$WORK/$1.r$ROUND"
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  upstream bench_upstream {
    server 127.0.0.1:${UP_PORTS[0]};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port$flags backlog=4096;$server_extra
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
    start_bg "$dir/stdout.log" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
}
start_nginx() { nginx_proxy_start nginx-proxy; }
# h2-nginx: the same listening HTTP/2 cleartext only (prior knowledge); HTTP/1.1 keep-alive upstream.
prepare_h2_nginx() {
    h2_prepare || return 1
    if [[ -n $NGINX_H2_SKIP ]]; then SKIP_REASON="$NGINX_H2_SKIP"; return 1; fi
    return 0
}
start_h2_nginx() { nginx_proxy_start h2-nginx-proxy http2; TARGET_PROTO=h2c; }

# haproxy: http mode, keep-alive both sides, connection reuse, one thread per core.
# haproxy_start NAME [BIND_OPTIONS [GLOBAL_LINES [SERVER]]] (SERVER: the backend's address and options; default the upstream's first port)
haproxy_start() {
    local name="$1" opts="${2:+ $2}" global_extra="${3:-}" server="${4:-127.0.0.1:${UP_PORTS[0]}}" port cfg; free_port port; cfg="$WORK/$name.r$ROUND.cfg"
    cat >"$cfg" <<EOF
global
  nbthread $(nproc)
  maxconn 4096$global_extra
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s
frontend bench_in
  bind 127.0.0.1:$port$opts
  default_backend bench_upstream
backend bench_upstream
  server up0 $server
EOF
    start_bg "$WORK/$name.r$ROUND.log" haproxy -db -f "$cfg"
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
}
start_haproxy() { haproxy_start haproxy; }
# h2-haproxy: the same with `bind ... proto h2` (HTTP/2 cleartext, prior knowledge); HTTP/1.1 upstream.
prepare_h2_haproxy() { h2_prepare; }
start_h2_haproxy() { haproxy_start h2-haproxy "proto h2"; TARGET_PROTO=h2c; }

# -- TLS targets (--tls): TLS termination at the proxy, HTTP/1.1 keep-alive upstream, wrk over https.
# One certificate for every TLS target, generated once per run: self-signed ECDSA P-256 (the key type Istio's
# workload certificates use), SAN DNS:localhost and IP:127.0.0.1, so curl verifies it with --cacert.
# Protocol: TLS 1.2 to 1.3 on every proxy (the gateway's Envoy default, TLS_AUTO), so TLS 1.3 is negotiated.
# TLS 1.3 cipher: the gateway cannot choose one (tls_params.cipher_suites is TLS <= 1.2 only; .NET's OpenSSL
# picks TLS_AES_128_GCM_SHA256), so nginx and haproxy are restricted to that suite. Key exchange: each side's
# default (X25519 with wrk's OpenSSL client). Session resumption is off on nginx and haproxy (no tickets, no
# cache): wrk resumes sessions when the server allows it, so with it on the *-tls-handshake runs would measure
# abbreviated handshakes; the gateway does not resume (.NET). tls_probe checks all of this once per target
# (openssl s_client, second connection offering the first one's session) and the report lists it.
TLS_CERT=""; TLS_KEY=""; TLS_HAPROXY_PEM=""
TLS13_CIPHER=TLS_AES_128_GCM_SHA256
tls_prepare() {
    if [[ -n $TLS_SKIP ]]; then SKIP_REASON="$TLS_SKIP"; return 1; fi
    [[ -n $TLS_CERT ]] && return 0
    local dir="$WORK/tls"
    mkdir -p "$dir"
    if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1; then
        FAIL_REASON="openssl could not generate the certificate: $(tail_log "$dir/openssl.log" 3)"; return 1
    fi
    cat "$dir/cert.pem" "$dir/key.pem" >"$dir/haproxy.pem"   # haproxy's crt: chain and key in one file
    TLS_CERT="$dir/cert.pem"; TLS_KEY="$dir/key.pem"; TLS_HAPROXY_PEM="$dir/haproxy.pem"
}
https_url() { TARGET_URL="https://${TARGET_URL#http://}"; }
# The handshake variants: one request per connection (wrk reconnects after each `Connection: close` answer).
handshake_hdrs() { TARGET_HDRS=(-H "Connection: close"); }

# tls_probe TARGET: what TARGET_URL negotiates (openssl s_client, offering ALPN http/1.1, no verification) and
# whether it resumes a session (a second connection offering the first one's); one row in TLS_TSV per target.
declare -A TLS_PROBED
tls_probe() {
    local t="$1" hostport="${TARGET_URL#https://}" f="$WORK/tls/$1.probe" req=$'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    [[ -n ${TLS_PROBED[$t]:-} ]] && return 0
    TLS_PROBED[$t]=1
    hostport="${hostport%%/*}"
    printf '%s' "$req" | timeout 10 openssl s_client -connect "$hostport" -servername localhost -alpn http/1.1 -ign_eof \
        -sess_out "$f.sess" >"$f.1.txt" 2>&1 || true
    if [[ -s $f.sess ]]; then
        printf '%s' "$req" | timeout 10 openssl s_client -connect "$hostport" -servername localhost -alpn http/1.1 -ign_eof \
            -sess_in "$f.sess" >"$f.2.txt" 2>&1 || true
    else
        : >"$f.2.txt"
    fi
    python3 "$BENCH_DIR/report.py" parse-s-client "$t" "$f.1.txt" "$f.2.txt" >>"$TLS_TSV" \
        || log "warning: $t: could not read what TLS negotiated (see $f.1.txt)"
}

nginx_tls_directives() {
    cat <<EOF

    ssl_certificate $TLS_CERT;
    ssl_certificate_key $TLS_KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites $TLS13_CIPHER;
    ssl_session_cache off;
    ssl_session_tickets off;
EOF
}
prepare_nginx_tls() {
    if [[ -n $NGINX_TLS_SKIP ]]; then SKIP_REASON="$NGINX_TLS_SKIP"; return 1; fi
    tls_prepare
}
start_nginx_tls() { nginx_proxy_start nginx-tls-proxy ssl "$(nginx_tls_directives)"; https_url; }
prepare_nginx_tls_handshake() { prepare_nginx_tls; }
start_nginx_tls_handshake() { nginx_proxy_start nginx-tls-handshake-proxy ssl "$(nginx_tls_directives)"; https_url; handshake_hdrs; }

prepare_haproxy_tls() {
    if [[ -n $HAPROXY_TLS_SKIP ]]; then SKIP_REASON="$HAPROXY_TLS_SKIP"; return 1; fi
    tls_prepare
}
# haproxy: no tickets on the bind, session cache size 0 (no stateful resumption).
haproxy_tls_start() {
    haproxy_start "$1" "ssl crt $TLS_HAPROXY_PEM alpn http/1.1 ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 ciphersuites $TLS13_CIPHER no-tls-tickets" \
        $'\n  tune.ssl.cachesize 0'
    https_url
}
start_haproxy_tls() { haproxy_tls_start haproxy-tls; }
prepare_haproxy_tls_handshake() { prepare_haproxy_tls; }
start_haproxy_tls_handshake() { haproxy_tls_start haproxy-tls-handshake; handshake_hdrs; }

# -- gateway targets: configs are generated once (prepare_*), ports fixed for the run.
GATEWAY_LOG_ARGS=()
gateway_validate() { # YAML -> 0 if the gateway accepts it; else VALIDATE_MSG holds its message
    local out rc=0
    out="$(timeout 120 dotnet "$GATEWAY_DLL" --mode validate -c "$1" "${GATEWAY_LOG_ARGS[@]+"${GATEWAY_LOG_ARGS[@]}"}" 2>&1)" || rc=$?
    # drop blank lines and Envoy's log prefix "[time][thread][level][logger] "
    VALIDATE_MSG="$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | sed 's/^\(\[[^]]*\]\)\{4\} //' | head -n 3 | tr '\n\t' '  ' | cut -c1-500 || true)"
    [[ $rc == 0 ]] && return 0
    VALIDATE_MSG="exit $rc: $VALIDATE_MSG"
    return 1
}

# Once: decide whether the gateway takes Envoy's `-l warning` (bare-yarp logs at Warning too).
gateway_common_prepare() {
    if [[ -n $GATEWAY_BUILD_ERR ]]; then FAIL_REASON="$GATEWAY_BUILD_ERR"; return 1; fi
    [[ -n ${GATEWAY_COMMON_DONE:-} ]] && return 0
    GATEWAY_COMMON_DONE=1
    if [[ -n ${GATEWAY_EXTRA_ARGS:-} ]]; then
        read -r -a GATEWAY_LOG_ARGS <<<"$GATEWAY_EXTRA_ARGS"
    else
        GATEWAY_LOG_ARGS=(-l warning)
    fi
    return 0
}

# seed_yaml SRC_VARIANT OUT LISTEN_PORT ADMIN_PORT: the book's ch3 config (reference/envoy-behaviour.md
# section 0), with the listener and admin on 127.0.0.1 free ports and the cluster STATIC at the upstream.
# Variant simple-h2: simple.yaml with the HCM's codec_type HTTP2 (the gateway then serves HTTP/2
# cleartext, prior knowledge only); the cluster has no http2_protocol_options, so the upstream stays HTTP/1.1.
seed_yaml() {
    local variant="$1" out="$2" lport="$3" aport="$4" extra="" codec="" src note="" vhost="" clusters="" chain=""
    local filters=$'\n          - name: envoy.filters.http.router'
    case "$variant" in
        simple) src=simple.yaml ;;
        tls) src=simple.yaml; note=", TLS termination on the listener (DownstreamTlsContext: the run's certificate, ALPN http/1.1, Envoy's default TLS 1.2-1.3)"
             chain=$(cat <<T
transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            alpn_protocols: [http/1.1]
            tls_certificates:
            - certificate_chain: { filename: $TLS_CERT }
              private_key: { filename: $TLS_KEY }
T
)
             chain+=$'\n      ' ;;
        h2-upstream) src=simple.yaml; note=", the cluster speaking HTTP/2 (h2c, prior knowledge) to the upstream nginx's http2 port" ;;
        notimers) src=simple.yaml; note=", the HCM's stream_idle_timeout off (no per-stream timer)"
                  codec=$'\n          stream_idle_timeout: 0s' ;;
        nodelayedclose) src=simple.yaml; note=", the HCM's delayed_close_timeout off (no transport wrapper)"
                        codec=$'\n          delayed_close_timeout: 0s' ;;
        simple-h2) src=simple.yaml; note=", HCM codec_type HTTP2"
                   codec=$'\n          codec_type: HTTP2' ;;
        retry) src=simple_retry.yaml
               extra=$'\n                  retry_policy:\n                      retry_on: 5xx\n                      num_retries: 3' ;;
        filters) src=simple.yaml; note=", with cors, local_ratelimit (never limiting) and compressor (the 5-byte body stays uncompressed) before the router"
                 filters=$(cat <<'F'

          - name: envoy.filters.http.cors
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: http_local_rate_limiter
              token_bucket: { max_tokens: 1000000000, tokens_per_fill: 1000000000, fill_interval: 1s }
              filter_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }
              filter_enforced: { default_value: { numerator: 100, denominator: HUNDRED } }
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
              compressor_library:
                name: gzip
                typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip }
          - name: envoy.filters.http.router
F
)
                 vhost=$(cat <<'V'

              typed_per_filter_config:
                envoy.filters.http.cors:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                  allow_origin_string_match: [{ exact: "https://example.com" }]
                  allow_methods: "GET, POST"
V
) ;;
        observed|observed100|observedtrace|observedlog)
               local percent=1; [[ $variant == observed100 ]] && percent=100
               src=simple.yaml; note=", with Zipkin tracing at ${percent}% random sampling (collector: the upstream nginx) and a stdout access log in Envoy's default format"
               codec=$(cat <<O

          tracing:
            random_sampling: { value: $percent }
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: zipkin
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
O
)
               [[ $variant == observedtrace ]] && codec="${codec%%          access_log:*}"
               [[ $variant == observedlog ]] && codec=$'\n          access_log:'"${codec#*          access_log:}"
               clusters=$(cat <<C

    - name: zipkin
      type: STATIC
      load_assignment:
        cluster_name: zipkin
        endpoints:
        - lb_endpoints:
          - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${UP_PORTS[0]} } } }
C
) ;;
        split) src=simple.yaml; note=", the route's cluster replaced by weighted_clusters 50/30/20 over three clusters (the seed's, one per upstream port, and two RING_HASH clusters over all three ports) with a hash_policy on the x-user-id header wrk sends"
               clusters=""
               for i in 1 2; do
                   clusters+=$'\n\n    - name: split_'"$i"$'\n      type: STATIC\n      lb_policy: RING_HASH\n      load_assignment:\n        cluster_name: split_'"$i"$'\n        endpoints:\n        - lb_endpoints:'
                   for port in "${UP_PORTS[@]}"; do
                       clusters+=$'\n          - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: '"$port"$' } } }'
                   done
               done ;;
        noop5) src=simple.yaml; note=", with five header_mutation filters with no mutations before the router"
               filters=""
               for i in 1 2 3 4 5; do
                   filters+=$'\n          - name: noop'"$i"$'\n            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation, mutations: {} }'
               done
               filters+=$'\n          - name: envoy.filters.http.router' ;;
    esac
    cat >"$out" <<EOF
# Generated by bench/run.sh from istioinaction ch3/$src:
# addresses moved to 127.0.0.1 free ports, cluster type STATIC at the benchmark's upstream nginx$note.
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $aport }

static_resources:
  listeners:
  - name: httpbin-demo
    address:
      socket_address: { address: 127.0.0.1, port_value: $lport }
    filter_chains:
    - ${chain}filters:
      - name:  envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http$codec
          http_filters:$filters
          route_config:
            name: httpbin_local_route
            virtual_hosts:
            - name: httpbin_local_service
              domains: ["*"]$vhost
              routes:
              - match: { prefix: "/" }
                route:
                  auto_host_rewrite: true
                  cluster: httpbin_service$extra
  clusters:
    - name: httpbin_service
      connect_timeout: 5s
      type: STATIC
      dns_lookup_family: V4_ONLY
      lb_policy: ROUND_ROBIN
      load_assignment:
        cluster_name: httpbin
        endpoints:
        - lb_endpoints:
          - endpoint:
              address:
                socket_address:
                  address: 127.0.0.1
                  port_value: ${UP_PORTS[0]}$clusters
EOF
    if [[ $variant == h2-upstream ]]; then
        local typed=$'      lb_policy: ROUND_ROBIN\n      typed_extension_protocol_options:\n        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n          explicit_http_config: { http2_protocol_options: {} }'
        local body; body=$(<"$out")
        body="${body/"      lb_policy: ROUND_ROBIN"/$typed}"
        printf '%s\n' "${body/"port_value: ${UP_PORTS[0]}"/"port_value: $UP_H2_PORT"}" >"$out"
    fi
    if [[ $variant == split ]]; then
        local weighted=$'                  hash_policy:\n                  - header: { header_name: x-user-id }\n                  weighted_clusters:\n                    clusters:\n                    - { name: httpbin_service, weight: 50 }\n                    - { name: split_1, weight: 30 }\n                    - { name: split_2, weight: 20 }'
        local body; body=$(<"$out")
        printf '%s\n' "${body/"                  cluster: httpbin_service"/$weighted}" >"$out"
    fi
}

# prepare_gateway_config NAME YAML: validate; on success remember the listener port.
declare -A GW_YAML GW_PORT
prepare_gateway_config() {
    local name="$1" yaml="$2" port="$3"
    if ! gateway_validate "$yaml"; then
        if [[ ${#GATEWAY_LOG_ARGS[@]} -gt 0 && -z ${GATEWAY_EXTRA_ARGS:-} ]]; then
            # Maybe it is the log flag it does not take: try once without.
            local saved=("${GATEWAY_LOG_ARGS[@]}")
            GATEWAY_LOG_ARGS=()
            if gateway_validate "$yaml"; then
                log "the gateway rejected '${saved[*]}'; running it with its default log level"
            else
                GATEWAY_LOG_ARGS=("${saved[@]}")
                SKIP_REASON="the gateway rejects $yaml: $VALIDATE_MSG"; return 1
            fi
        else
            SKIP_REASON="the gateway rejects $yaml: $VALIDATE_MSG"; return 1
        fi
    fi
    GW_YAML[$name]="$yaml"
    GW_PORT[$name]="$port"
}

start_gateway_config() { # NAME
    local name="$1"
    start_bg "$WORK/$name.r$ROUND.log" dotnet "$GATEWAY_DLL" -c "${GW_YAML[$name]}" "${GATEWAY_LOG_ARGS[@]+"${GATEWAY_LOG_ARGS[@]}"}"
    TARGET_URL="http://127.0.0.1:${GW_PORT[$name]}/"
    TARGET_RSS_PIDS=("$LAST_PID")
    TARGET_ALLOC_PID="$LAST_PID"
}

# prepare_seed_target NAME VARIANT: a gateway target running seed_yaml's VARIANT on free ports.
prepare_seed_target() {
    local name="$1" variant="$2"
    gateway_common_prepare || return 1
    local lp ap; free_port lp; free_port ap
    seed_yaml "$variant" "$WORK/$name.yaml" "$lp" "$ap"
    prepare_gateway_config "$name" "$WORK/$name.yaml" "$lp"
}

# gateway-simple: the seed config (ch3/simple.yaml).
prepare_gateway_simple() { prepare_seed_target gateway-simple simple; }
start_gateway_simple() { start_gateway_config gateway-simple; }

# grpc-direct: h2load's gRPC calls straight at the upstream's gRPC answer. The ceiling.
prepare_grpc_direct() { grpc_prepare; }
start_grpc_direct() { TARGET_URL="http://127.0.0.1:$UP_GRPC_PORT/"; TARGET_RSS_PIDS=(); grpc_call; }

# gateway-grpc: an HTTP/2-only listener (codec_type HTTP2) routing every path to a cluster that speaks HTTP/2 to the upstream.
prepare_gateway_grpc() {
    grpc_prepare || return 1
    gateway_common_prepare || return 1
    local lp ap; free_port lp; free_port ap
    cat >"$WORK/gateway-grpc.yaml" <<EOF
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $ap } }
static_resources:
  listeners:
  - name: grpc_in
    address: { socket_address: { address: 127.0.0.1, port_value: $lp } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: grpc_in
          codec_type: HTTP2
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
          route_config:
            virtual_hosts:
            - name: grpc
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: grpc }
  clusters:
  - name: grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: grpc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $UP_GRPC_PORT } } }
EOF
    prepare_gateway_config gateway-grpc "$WORK/gateway-grpc.yaml" "$lp"
}
start_gateway_grpc() { start_gateway_config gateway-grpc; grpc_call; }

# nginx-grpc: nginx listening HTTP/2 cleartext, grpc_pass to the upstream with a keepalive pool.
prepare_nginx_grpc() { grpc_prepare; }
start_nginx_grpc() {
    local port dir; free_port port; dir="$WORK/nginx-grpc.r$ROUND"
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/body;
  upstream grpc_upstream {
    server 127.0.0.1:$UP_GRPC_PORT;
    keepalive 128;
  }
  server {
    listen 127.0.0.1:$port http2 backlog=4096;
    location / { grpc_pass grpc://grpc_upstream; }
  }
}
EOF
    start_bg "$dir/stdout.log" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
    grpc_call
}

# haproxy-grpc: haproxy http mode, `bind ... proto h2` in front, `server ... proto h2` behind.
prepare_haproxy_grpc() { grpc_prepare; }
start_haproxy_grpc() { haproxy_start haproxy-grpc "proto h2" "" "127.0.0.1:$UP_GRPC_PORT proto h2"; grpc_call; }

# gateway-h2-upstream: the seed config with the cluster speaking HTTP/2 to the upstream nginx's h2c port; wrk's HTTP/1.1 in front.
prepare_gateway_h2_upstream() {
    if [[ -n $NGINX_H2_SKIP ]]; then SKIP_REASON="$NGINX_H2_SKIP"; return 1; fi
    prepare_seed_target gateway-h2-upstream h2-upstream
}
start_gateway_h2_upstream() { start_gateway_config gateway-h2-upstream; }

# haproxy-h2-upstream: haproxy http mode as `haproxy`, its server speaking HTTP/2 (`proto h2`) to the upstream's h2c port.
prepare_haproxy_h2_upstream() {
    if [[ -n $NGINX_H2_SKIP ]]; then SKIP_REASON="$NGINX_H2_SKIP"; return 1; fi
    return 0
}
start_haproxy_h2_upstream() { haproxy_start haproxy-h2-upstream "" "" "127.0.0.1:$UP_H2_PORT proto h2"; }

# h2-gateway-simple: the seed config with codec_type HTTP2 (h2c prior knowledge), HTTP/1.1 upstream.
prepare_h2_gateway_simple() {
    h2_prepare || return 1
    prepare_seed_target h2-gateway-simple simple-h2
}
start_h2_gateway_simple() { start_gateway_config h2-gateway-simple; TARGET_PROTO=h2c; }

# gateway-tls: the seed config with TLS termination on the listener (see "TLS targets" above); gateway-tls-handshake:
# the same, one request per TLS connection.
prepare_gateway_tls() { tls_prepare || return 1; prepare_seed_target gateway-tls tls; }
start_gateway_tls() { start_gateway_config gateway-tls; https_url; }
prepare_gateway_tls_handshake() { tls_prepare || return 1; prepare_seed_target gateway-tls-handshake tls; }
start_gateway_tls_handshake() { start_gateway_config gateway-tls-handshake; https_url; handshake_hdrs; }

# -- TCP proxy targets (--tcp): L4 proxies in front of the same upstream nginx; wrk's HTTP/1.1 keep-alive bytes pass
# through unchanged, so each wrk connection is one proxied TCP connection for the whole run.
# gateway-tcp: a listener whose chain is envoy.filters.network.tcp_proxy to a STATIC cluster at the upstream
# (max_connections raised: Envoy's default 1024 would refuse wrk's connections beyond it).
prepare_gateway_tcp() {
    gateway_common_prepare || return 1
    local lp ap; free_port lp; free_port ap
    cat >"$WORK/gateway-tcp.yaml" <<EOF
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $ap } }
static_resources:
  listeners:
  - name: tcp_in
    address: { socket_address: { address: 127.0.0.1, port_value: $lp } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp_in
          cluster: upstream
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    circuit_breakers: { thresholds: [ { max_connections: 100000 } ] }
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${UP_PORTS[0]} } } }
EOF
    prepare_gateway_config gateway-tcp "$WORK/gateway-tcp.yaml" "$lp"
}
start_gateway_tcp() { start_gateway_config gateway-tcp; }

# haproxy-tcp: haproxy `mode tcp`, one thread per core.
start_haproxy_tcp() {
    local port cfg; free_port port; cfg="$WORK/haproxy-tcp.r$ROUND.cfg"
    cat >"$cfg" <<EOF
global
  nbthread $(nproc)
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench_in
  bind 127.0.0.1:$port
  default_backend bench_upstream
backend bench_upstream
  server up0 127.0.0.1:${UP_PORTS[0]}
EOF
    start_bg "$WORK/haproxy-tcp.r$ROUND.log" haproxy -db -f "$cfg"
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
}

# nginx-tcp: nginx's `stream` module (built in, or Debian's dynamic ngx_stream_module); skipped without it.
NGINX_STREAM_LOAD=""
prepare_nginx_tcp() {
    local v; v="$(nginx -V 2>&1)"
    if [[ $v == *--with-stream=dynamic* ]]; then
        local m
        for m in /usr/lib/nginx/modules/ngx_stream_module.so /usr/share/nginx/modules/ngx_stream_module.so; do
            [[ -f $m ]] && { NGINX_STREAM_LOAD="load_module $m;"; return 0; }
        done
        SKIP_REASON="nginx's stream module is not installed (apt-get install libnginx-mod-stream)"; return 1
    fi
    [[ $v == *--with-stream* ]] && return 0
    SKIP_REASON="this nginx is built without the stream module"; return 1
}
start_nginx_tcp() {
    local port dir; free_port port; dir="$WORK/nginx-tcp.r$ROUND"
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
$NGINX_STREAM_LOAD
worker_processes auto;
pid $dir/nginx.pid;
events { worker_connections 4096; }
stream {
  server {
    listen 127.0.0.1:$port backlog=4096;
    proxy_pass 127.0.0.1:${UP_PORTS[0]};
  }
}
EOF
    start_bg "$dir/stdout.log" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
    TARGET_URL="http://127.0.0.1:$port/"
    TARGET_RSS_PIDS=("$LAST_PID")
}


# gateway-retry: ch3/simple_retry.yaml (retry_policy 5xx x3; the upstream never fails, so this
# measures the cost of having a retry policy on the path, e.g. request buffering).
prepare_gateway_retry() { prepare_seed_target gateway-retry retry; }
start_gateway_retry() { start_gateway_config gateway-retry; }

# gateway-filters: the seed config with cors + local_ratelimit + compressor before the router (issue 10's budget).
prepare_gateway_filters() { prepare_seed_target gateway-filters filters; }
start_gateway_filters() { start_gateway_config gateway-filters; }

# gateway-split: the seed config with weighted_clusters 50/30/20 over three clusters and ring hash on a header (issue 12).
prepare_gateway_split() { prepare_seed_target gateway-split split; }
start_gateway_split() { start_gateway_config gateway-split; TARGET_HDRS=(-H "x-user-id: bench-user-42"); }

# gateway-noop5: the seed config with five filters that do nothing (the chain's own cost).
prepare_gateway_noop5() { prepare_seed_target gateway-noop5 noop5; }
start_gateway_noop5() { start_gateway_config gateway-noop5; }

# gateway-observed: the seed config with Zipkin tracing at 1 % and a stdout access log (issue 11's budget: at most 5 %
# below gateway-simple); gateway-observed100: the same at 100 % sampling (its cost is reported); gateway-observedtrace
# and gateway-observedlog: only its tracing, only its access log.
prepare_gateway_observed() { prepare_seed_target gateway-observed observed; }
start_gateway_observed() { start_gateway_config gateway-observed; }
prepare_gateway_observedtrace() { prepare_seed_target gateway-observedtrace observedtrace; }
start_gateway_observedtrace() { start_gateway_config gateway-observedtrace; }
prepare_gateway_observedlog() { prepare_seed_target gateway-observedlog observedlog; }
start_gateway_observedlog() { start_gateway_config gateway-observedlog; }
prepare_gateway_notimers() { prepare_seed_target gateway-notimers notimers; }
start_gateway_notimers() { start_gateway_config gateway-notimers; }
prepare_gateway_nodelayedclose() { prepare_seed_target gateway-nodelayedclose nodelayedclose; }
start_gateway_nodelayedclose() { start_gateway_config gateway-nodelayedclose; }
prepare_gateway_observed100() { prepare_seed_target gateway-observed100 observed100; }
start_gateway_observed100() { start_gateway_config gateway-observed100; }

# gateway-realistic: bench/gen-realistic.py, 100 prefix routes with header matches (the request
# matches only the last), 3 STATIC endpoints (the three upstream ports), LEAST_REQUEST.
prepare_gateway_realistic() {
    gateway_common_prepare || return 1
    local lp ap; free_port lp; free_port ap
    python3 "$BENCH_DIR/gen-realistic.py" --routes 100 --listen-port "$lp" --admin-port "$ap" \
        --upstream-ports "$(IFS=,; echo "${UP_PORTS[*]}")" --out "$WORK/gateway-realistic.yaml" \
        || { FAIL_REASON="bench/gen-realistic.py failed"; return 1; }
    prepare_gateway_config gateway-realistic "$WORK/gateway-realistic.yaml" "$lp"
}
start_gateway_realistic() {
    start_gateway_config gateway-realistic
    TARGET_HDRS=(-H "x-tenant: bench")
}

# start-up only: gateway-10k-routes, the realistic generator with 10,000 routes.
prepare_startup_gateway_10k_routes() {
    gateway_common_prepare || return 1
    local lp ap; free_port lp; free_port ap
    python3 "$BENCH_DIR/gen-realistic.py" --routes 10000 --listen-port "$lp" --admin-port "$ap" \
        --upstream-ports "$(IFS=,; echo "${UP_PORTS[*]}")" --out "$WORK/gateway-10k-routes.yaml" \
        || { FAIL_REASON="bench/gen-realistic.py failed"; return 1; }
    prepare_gateway_config gateway-10k-routes "$WORK/gateway-10k-routes.yaml" "$lp"
}
start_startup_gateway_10k_routes() {
    start_gateway_config gateway-10k-routes
    TARGET_HDRS=(-H "x-tenant: bench")
}

LOADAVG_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- prepare ---------------------------------------------------------------------------------
start_upstream
log "upstream nginx (pid $UPSTREAM_PID, $UPSTREAM_WORKERS worker(s)) on 127.0.0.1 ports ${UP_PORTS[*]}"

# run_prepare FN NAME: returns 0 = run it, 1 = skipped/failed (recorded).
run_prepare() {
    local fn="$1" name="$2"
    SKIP_REASON=""; FAIL_REASON=""
    if ! declare -F "$fn" >/dev/null; then return 0; fi
    if "$fn"; then return 0; fi
    if [[ -n $SKIP_REASON ]]; then
        log "SKIP $name: $SKIP_REASON"
        printf '%s\t%s\n' "$name" "$SKIP_REASON" >>"$SKIPPED_TSV"
    else
        log "FAIL $name: ${FAIL_REASON:-prepare failed}"
        printf '%s\t%s\n' "$name" "FAILED: ${FAIL_REASON:-prepare failed}" >>"$SKIPPED_TSV"
        RUN_FAILED=1
    fi
    return 1
}

RUN_TARGETS=()
for t in "${TARGETS[@]}"; do
    if run_prepare "prepare_${t//-/_}" "$t"; then RUN_TARGETS+=("$t"); fi
done
RUN_STARTUP=()
if has_h1_gateway_target; then   # start-up vs config size does not depend on the listener's protocol
    for s in "${STARTUP_ONLY[@]}"; do
        if run_prepare "prepare_startup_${s//-/_}" "$s"; then RUN_STARTUP+=("$s"); fi
    done
fi
[[ ${#RUN_TARGETS[@]} -gt 0 ]] || { log "nothing to run"; }

# ---- rounds ----------------------------------------------------------------------------------
record() { # target status rps p50 p99 non2xx sockerr rss startup bg_cpu alloc_b_per_req mean jit_ms cpu_us_per_req
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10:--}" "${11:--}" "${12:--}" "${13:--}" "${14:--}" >>"$RAW"
}

run_target_round() {
    local t="$1" fn="start_${1//-/_}" out stats rps p50 p99 non2xx sockerr reqs mean rss body bg alloc="-" jit="-" cpu sampling=0
    local driver=wrk parser=parse-wrk
    TARGET_URL=""; TARGET_HDRS=(); TARGET_DATA=""; TARGET_RSS_PIDS=(); TARGET_STARTED=(); TARGET_ALLOC_PID=""; TARGET_PROTO=h1; LAUNCH_NS=""; STARTUP_MS="-"
    if ! "$fn"; then
        record "$t" "fail:start function failed" - - - - - - -; RUN_FAILED=1; stop_target; return
    fi
    local logf="$WORK/$t.r$ROUND.log"
    if ! wait_ready "$TARGET_URL"; then
        log "FAIL $t round $ROUND: $READY_ERR"
        [[ -f $logf ]] && tail -n 15 "$logf" >&2
        record "$t" "fail:$READY_ERR $(tail_log "$logf" 3)" - - - - - - -
        [[ ${#TARGET_STARTED[@]} -gt 0 ]] && printf '%s\t%s\t%s\t%s\n' "$t" "$ROUND" "-" "fail: $READY_ERR" >>"$STARTUP_TSV"
        RUN_FAILED=1; stop_target; return
    fi
    [[ ${#TARGET_STARTED[@]} -gt 0 ]] && printf '%s\t%s\t%s\t%s\n' "$t" "$ROUND" "$STARTUP_MS" "ok" >>"$STARTUP_TSV"
    curl_proto_args
    [[ $TARGET_PROTO == h2c ]] && { driver=h2load; parser=parse-h2load; }
    # body, then the HTTP version on the last line (must be 2 for an h2c target)
    if [[ -n $TARGET_DATA ]]; then
        # A gRPC call: the reply's message (after its 5-byte frame header and the field's 2-byte tag and length).
        body="$(curl -s --max-time 2 -w '\n%{http_version}' "${CURL_PROTO[@]+"${CURL_PROTO[@]}"}" "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" --data-binary "@$TARGET_DATA" "$TARGET_URL" | tail -c +8 || true)"
    else
        body="$(curl -s --max-time 2 -w '\n%{http_version}' "${CURL_PROTO[@]+"${CURL_PROTO[@]}"}" "${TARGET_HDRS[@]+"${TARGET_HDRS[@]}"}" "$TARGET_URL" || true)"
    fi
    local httpver="${body##*$'\n'}"; body="${body%$'\n'*}"
    if [[ $body != hello ]]; then
        log "FAIL $t round $ROUND: body is '${body:0:80}', expected 'hello'"
        record "$t" "fail:wrong body '${body:0:80}'" - - - - - - -; RUN_FAILED=1; stop_target; return
    fi
    if [[ $TARGET_PROTO == h2c && $httpver != 2 ]]; then
        log "FAIL $t round $ROUND: answered over HTTP/$httpver, expected HTTP/2"
        record "$t" "fail:answered over HTTP/$httpver, expected HTTP/2" - - - - - - -; RUN_FAILED=1; stop_target; return
    fi
    [[ $TARGET_URL == https://* ]] && tls_probe "$t"
    wait_quiet
    if (( WARMUP > 0 )); then
        run_load "$WARMUP" "$WORK/$t.r$ROUND.warmup.txt" || true
    fi
    out="$WORK/$t.r$ROUND.$driver.txt"
    if [[ -n $DOTNET_COUNTERS_BIN && -n $TARGET_ALLOC_PID ]]; then
        # after the warm-up, so the warm-up's allocations are not in the session
        if alloc_start "$TARGET_ALLOC_PID" "$WORK/$t.r$ROUND.counters.csv" "$WORK/$t.r$ROUND.counters.log"; then
            sampling=1
        else
            log "warning: $t round $ROUND: no alloc B/req: $ALLOC_ERR"
        fi
    fi
    log "round $ROUND/$ROUNDS: $t (${DURATION}s, $driver -t$THREADS -c$CONNECTIONS$([[ $driver == h2load ]] && echo " -m$H2_STREAMS"), start-up ${STARTUP_MS} ms)"
    local t0 t1 o0 o1 p0 p1
    read -r -a t0 <<<"$(cpu_total_ticks)"; o0="$(ours_ticks)"; p0="$(pids_ticks "${TARGET_RSS_PIDS[@]+"${TARGET_RSS_PIDS[@]}"}")"
    if ! run_load "$DURATION" "$out" || ! stats="$(python3 "$BENCH_DIR/report.py" "$parser" "$out")"; then
        log "FAIL $t round $ROUND: $driver failed: $(tail_log "$out" 3)"
        alloc_stop
        record "$t" "fail:$driver failed $(tail_log "$out" 2)" - - - - - - -; RUN_FAILED=1; stop_target; return
    fi
    read -r -a t1 <<<"$(cpu_total_ticks)"; o1="$(ours_ticks)"; p1="$(pids_ticks "${TARGET_RSS_PIDS[@]+"${TARGET_RSS_PIDS[@]}"}")"
    # other = busy ticks not spent by the upstream, the proxy or wrk, as % of all CPU ticks
    bg="$(other_pct "${t0[0]}" "${t0[1]}" "$o0" "${t1[0]}" "${t1[1]}" "$o1")"
    if (( bg > 10 )); then log "warning: other processes used ${bg}% of the CPU during $t's run; this row is noisy"; fi
    read -r rps p50 p99 non2xx sockerr reqs mean <<<"$stats"
    # the proxy's own CPU time per request (µs): robust where requests/s is not (a shared machine)
    cpu="-"
    (( ${#TARGET_RSS_PIDS[@]} > 0 )) && cpu="$(awk -v t=$(( p1 - p0 )) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')"
    if [[ $sampling == 1 ]]; then
        alloc_finish "$WORK/$t.r$ROUND.counters.csv" "$reqs"; alloc="$ALLOC_RESULT"; jit="$JIT_RESULT"
        [[ $alloc == - ]] && log "warning: $t round $ROUND: no alloc B/req: $ALLOC_ERR"
    fi
    rss="$(peak_rss_kb)"
    # The proxy must have survived the run.
    local pid
    for pid in "${TARGET_STARTED[@]+"${TARGET_STARTED[@]}"}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "FAIL $t round $ROUND: process $pid died during the run"
            record "$t" "fail:process died during the run $(tail_log "$logf" 3)" - - - - - - -; RUN_FAILED=1; stop_target; return
        fi
    done
    stop_target
    record "$t" ok "$rps" "$p50" "$p99" "$non2xx" "$sockerr" "$rss" "$STARTUP_MS" "$bg" "$alloc" "$mean" "$jit" "$cpu"
    if [[ $driver == h2load ]]; then
        log "  $t: $rps req/s, mean ${mean} ms, failed $(( non2xx + sockerr )) (errored $sockerr), peak RSS ${rss} kB$([[ $sampling == 1 ]] && echo ", alloc ${alloc} B/req")"
    else
        log "  $t: $rps req/s, mean ${mean} ms, p50 ${p50} ms, p99 ${p99} ms, non-2xx $non2xx, socket errors $sockerr, peak RSS ${rss} kB$([[ $sampling == 1 ]] && echo ", alloc ${alloc} B/req")"
    fi
}

n=${#RUN_TARGETS[@]}
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for ((i = 0; i < n; i++)); do
        run_target_round "${RUN_TARGETS[(i + ROUND - 1) % n]}"
    done
done

# ---- start-up only ---------------------------------------------------------------------------
for s in "${RUN_STARTUP[@]+"${RUN_STARTUP[@]}"}"; do
    for ((ROUND = 1; ROUND <= STARTUP_RUNS; ROUND++)); do
        TARGET_URL=""; TARGET_HDRS=(); TARGET_DATA=""; TARGET_RSS_PIDS=(); TARGET_STARTED=(); TARGET_ALLOC_PID=""; TARGET_PROTO=h1; LAUNCH_NS=""
        "start_startup_${s//-/_}"
        if wait_ready "$TARGET_URL"; then
            printf '%s\t%s\t%s\t%s\n' "$s" "$ROUND" "$STARTUP_MS" "ok" >>"$STARTUP_TSV"
            log "start-up $s run $ROUND: ${STARTUP_MS} ms"
        else
            printf '%s\t%s\t%s\t%s\n' "$s" "$ROUND" "-" "fail: $READY_ERR" >>"$STARTUP_TSV"
            log "FAIL start-up $s run $ROUND: $READY_ERR"; RUN_FAILED=1
        fi
        stop_target
    done
done

# ---- report ----------------------------------------------------------------------------------
version_of() { "$@" 2>&1 | head -n 1 || true; }
{
    echo "- nproc: $(nproc)"
    echo "- load average at start: $LOADAVG_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- CPU: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "- memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- kernel: $(uname -srm)"
    echo "- OS: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
    echo "- dotnet: $(cd "$REPO_DIR" && dotnet --version 2>/dev/null)"
    echo "- nginx: $(version_of nginx -v)"
    if command -v haproxy >/dev/null; then echo "- haproxy: $(version_of haproxy -v)"; fi
    echo "- wrk: $(version_of wrk -v)"
    if has_tls_target && command -v openssl >/dev/null; then echo "- openssl: $(version_of openssl version) (TLS certificate: self-signed ECDSA P-256)"; fi
    if [[ -n $H2LOAD_BIN ]]; then echo "- h2load: $(version_of "$H2LOAD_BIN" --version)"; fi
    if [[ -n $DOTNET_COUNTERS_BIN ]]; then echo "- dotnet-counters: $(version_of "$DOTNET_COUNTERS_BIN" --version)"; fi
    echo "- gateway commit: $(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO_DIR" && [[ -n $(git status --porcelain -- src 2>/dev/null) ]] && echo ' (src has uncommitted changes)')"
    echo "- upstream: nginx, $UPSTREAM_WORKERS worker(s), 'return 200 hello', keepalive; wrk and every proxy share the same cores"
    if [[ ${#GATEWAY_LOG_ARGS[@]} -gt 0 ]] && has_gateway_target; then echo "- gateway args: ${GATEWAY_LOG_ARGS[*]}"; fi
} >"$WORK/machine.md"

if [[ $SMOKE == 1 ]]; then
    REPORT="$BENCH_DIR/.work/smoke-$STAMP.md"
else
    mkdir -p "$BENCH_DIR/results"
    REPORT="$BENCH_DIR/results/$STAMP.md"
fi
PARAMS="rounds $ROUNDS, ${DURATION}s per target per round (+${WARMUP}s warm-up), wrk -t$THREADS -c$CONNECTIONS"
if [[ " ${RUN_TARGETS[*]:-} " == *" h2-"* ]]; then PARAMS+=" (h2-*: h2load -t$THREADS -c$CONNECTIONS -m$H2_STREAMS, h2c prior knowledge)"; fi
if [[ " ${RUN_TARGETS[*]:-} " == *"-tls"* ]]; then PARAMS+=" (*-tls: https, TLS 1.3; *-tls-handshake: Connection: close)"; fi
PARAMS+=", targets: ${RUN_TARGETS[*]:-none}"
if [[ $SMOKE == 1 ]]; then PARAMS+=" (SMOKE run: the numbers mean nothing, this only checks that the script works)"; fi
python3 "$BENCH_DIR/report.py" table --raw "$RAW" --machine "$WORK/machine.md" --skipped "$SKIPPED_TSV" \
    --startup "$STARTUP_TSV" --params "$PARAMS" --stamp "$STAMP" --out "$REPORT" --alloc-note "$ALLOC_NOTE" --tls "$TLS_TSV"
log "report: $REPORT (raw data and logs: $WORK)"
if [[ $RUN_FAILED != 0 ]]; then log "some targets failed (see above)"; exit 1; fi

'use strict';
// bench/xds-grpc-server.js: the ADS control plane of `bench/xds-scale.sh --grpc` / `--delta`. Built like
// tests/xds-node/ads-server.js, on Envoy's own .proto files (the ones @grpc/grpc-js-xds ships), with the packages
// installed in tests/xds-node (`cd tests/xds-node && npm ci`); it has no package.json of its own.
//
//   node bench/xds-grpc-server.js --clusters N --endpoints E --upstream PORT --listener-port PORT [--port P]
//
// Serves, over StreamAggregatedResources (state of the world) and DeltaAggregatedResources (incremental):
//   CDS  N EDS clusters c0..c<N-1> (eds_config: ads), connect_timeout 1 + gen % 2 s (as bench/xds_files.py);
//   EDS  one ClusterLoadAssignment per cluster, E endpoints each, all 127.0.0.1:<upstream>, load_balancing_weight
//        1 + gen % 2;
//   LDS  listener "scale" on 127.0.0.1:<listener-port>, HCM stat_prefix "scale", RDS "scale" over ADS;
//   RDS  route configuration "scale": one route per cluster, prefix /r<i> -> c<i>, in reverse order (/r0 last),
//        route timeout 15 + gen % 2 s.
// gen starts at 1. A line "update" on stdin (or SIGUSR2) makes gen + 1 and pushes it to every stream: every cluster,
// every assignment and the route table change. "update K" also changes the number of clusters to K (clusters that go
// are left out of state-of-the-world responses and sent as removed_resources on delta streams).
// State of the world: every type has the version "v<gen>" (one snapshot version: on an update the unchanged listener is
// sent again with the new version too). Delta: CDS and LDS are legacy wildcards when the first request of the type
// subscribes to nothing; EDS and RDS are named; each resource's version is a hash of its encoding and only resources
// whose version the client does not hold are sent (so an update sends CDS, EDS and RDS, not LDS).
//
// stdout, one line per event, "ts=<unix ms> event=<name> key=value ...":
//   listening port=P                      bound (after the first generation)
//   generated gen=G clusters=N ms=M       resources (re)built
//   request stream=S type=T ...           a request that is neither an ACK nor a NACK (a subscription)
//   response stream=S type=T version=V nonce=X gen=G resources=R removed=D bytes=B
//   ack|nack stream=S type=T nonce=X gen=G version=V ms=M [error=...]   (ms: since that response was sent)
//   stale stream=S type=T nonce=X         a SotW request answering an older nonce (ignored)
//   push gen=G stream=S types=cds,eds,... an update went out on a stream
//   update_done gen=G stream=S total_ms=M cds_ms=.. eds_ms=.. lds_ms=.. rds_ms=..   every type pushed for G was ACKed
//   update_nack gen=G stream=S type=T     a type pushed for G was NACKed
// T is cds, eds, lds or rds. Exits when stdin closes (or on "quit", SIGTERM, SIGINT).

const path = require('path');
const crypto = require('crypto');
const readline = require('readline');

let envoyProtos;
try {
  // Envoy's protos and the packages installed in tests/xds-node (no package.json here).
  envoyProtos = require(path.join(__dirname, '..', 'tests', 'xds-node', 'envoy-protos'));
} catch (e) {
  process.stderr.write(`cannot load tests/xds-node/envoy-protos.js (run: cd tests/xds-node && npm ci): ${e.message}\n`);
  process.exit(3);
}
const { grpc, adsService } = envoyProtos;
/** Each resource type's first object has its field names checked: the generator makes thousands alike. */
const pack = (typeName, object) => envoyProtos.pack(typeName, object, true);

function parseArgs(argv) {
  const args = { clusters: 10000, endpoints: 10, upstream: 0, 'listener-port': 0, port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) || i + 1 >= argv.length || !/^\d+$/.test(argv[i + 1])) {
      process.stderr.write('usage: node bench/xds-grpc-server.js --clusters N --endpoints E --upstream PORT --listener-port PORT [--port P]\n');
      process.exit(2);
    }
    args[key] = Number(argv[i + 1]);
  }
  if (!args.upstream || !args['listener-port'] || args.clusters < 1 || args.endpoints < 1) {
    process.stderr.write('--upstream and --listener-port are required; --clusters and --endpoints must be >= 1\n');
    process.exit(2);
  }
  return args;
}
const args = parseArgs(process.argv.slice(2));

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const ORDER = [CDS, EDS, LDS, RDS]; // Envoy's make-before-break order
const SHORT = { [CDS]: 'cds', [EDS]: 'eds', [LDS]: 'lds', [RDS]: 'rds' };
const WILDCARD_TYPES = new Set([CDS, LDS]);
const ads = { resource_api_version: 'V3', ads: {} };

let gen = 0;
let clusters = args.clusters;
/** type URL -> Map(name -> { any, version }) of the current generation. */
let resources = new Map();

function entry(typeName, object) {
  const any = pack(typeName, object);
  return { any, version: crypto.createHash('sha1').update(any.value).digest('hex').slice(0, 16) };
}

function generate() {
  const start = Date.now();
  gen += 1;
  const next = new Map(ORDER.map((t) => [t, new Map()]));
  const weight = { value: 1 + (gen % 2) };
  const lbEndpoints = [];
  for (let j = 0; j < args.endpoints; j++) {
    lbEndpoints.push({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: args.upstream } } }, load_balancing_weight: weight });
  }
  for (let i = 0; i < clusters; i++) {
    const name = `c${i}`;
    next.get(CDS).set(name, entry('envoy.config.cluster.v3.Cluster', {
      name, type: 'EDS', connect_timeout: { seconds: 1 + (gen % 2) }, eds_cluster_config: { eds_config: ads },
    }));
    next.get(EDS).set(name, entry('envoy.config.endpoint.v3.ClusterLoadAssignment', { cluster_name: name, endpoints: [{ lb_endpoints: lbEndpoints }] }));
  }
  const routes = [];
  for (let i = clusters - 1; i >= 0; i--) {
    routes.push({ match: { prefix: `/r${i}` }, route: { cluster: `c${i}`, timeout: { seconds: 15 + (gen % 2) } } });
  }
  next.get(RDS).set('scale', entry('envoy.config.route.v3.RouteConfiguration', {
    name: 'scale', virtual_hosts: [{ name: 'all', domains: ['*'], routes }],
  }));
  next.get(LDS).set('scale', entry('envoy.config.listener.v3.Listener', {
    name: 'scale',
    address: { socket_address: { address: '127.0.0.1', port_value: args['listener-port'] } },
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
          stat_prefix: 'scale',
          rds: { route_config_name: 'scale', config_source: ads },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
        }),
      }],
    }],
  }));
  resources = next;
  log('generated', { gen, clusters, endpoints: args.endpoints, ms: Date.now() - start });
}

function log(event, fields) {
  let line = `ts=${Date.now()} event=${event}`;
  for (const [key, value] of Object.entries(fields)) {
    line += ` ${key}=${typeof value === 'string' && /[\s"]/.test(value) ? JSON.stringify(value) : value}`;
  }
  process.stdout.write(line + '\n');
}

function sameNames(a, b) {
  if (!a || a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

// ---- streams ----------------------------------------------------------------------------------------------------

let streamIds = 0;
const streams = new Set();

/** Common per-stream bookkeeping: nonces, the last response of each type, the update being tracked. */
class Stream {
  constructor(call, kind) {
    this.id = ++streamIds;
    this.call = call;
    this.kind = kind; // 'sotw' | 'delta'
    this.nonce = 0;
    this.sent = new Map(); // nonce -> { type, gen, ts }
    this.last = new Map(); // type -> nonce of the last response of the type
    this.types = new Map(); // type -> per-type subscription state
    this.tracking = null; // { gen, ts, types: Set, acked: Map(type -> ms) }
  }

  write(type, message, count, removed) {
    const nonce = String(++this.nonce);
    message.nonce = nonce;
    message.control_plane = { identifier: 'bench/xds-grpc-server.js' };
    const ts = Date.now();
    this.sent.set(nonce, { type, gen, ts });
    this.last.set(type, nonce);
    let bytes = 0;
    for (const r of message.resources) {
      bytes += (r.value ?? r.resource.value).length;
    }
    this.call.write(message);
    log('response', { stream: this.id, type: SHORT[type], version: message.version_info ?? message.system_version_info, nonce, gen, resources: count, removed, bytes });
  }

  /** An ACK or a NACK of `nonce`; returns false when the nonce is not ours. */
  answered(type, nonce, error, version) {
    const sent = this.sent.get(nonce);
    if (!sent || sent.type !== type) {
      return false;
    }
    const now = Date.now();
    this.sent.delete(nonce);
    const fields = { stream: this.id, type: SHORT[type], nonce, gen: sent.gen, version, ms: now - sent.ts };
    if (error) {
      fields.error = `${error.code ?? 0}: ${error.message ?? ''}`;
    }
    log(error ? 'nack' : 'ack', fields);
    const t = this.tracking;
    if (t && sent.gen === t.gen && t.types.has(type) && !t.acked.has(type) && this.last.get(type) === nonce) {
      if (error) {
        log('update_nack', { gen: t.gen, stream: this.id, type: SHORT[type] });
        t.types.delete(type);
      } else {
        t.acked.set(type, now - t.ts);
      }
      if (t.acked.size === t.types.size) {
        const done = { gen: t.gen, stream: this.id, total_ms: Math.max(0, ...t.acked.values()) };
        for (const ty of ORDER) {
          done[`${SHORT[ty]}_ms`] = t.acked.has(ty) ? t.acked.get(ty) : '-';
        }
        log('update_done', done);
        this.tracking = null;
      }
    }
    return true;
  }

  /** Starts tracking the update just pushed (the types it sent). */
  track(types, ts) {
    if (types.length === 0) {
      return;
    }
    this.tracking = { gen, ts, types: new Set(types), acked: new Map() };
    log('push', { gen, stream: this.id, types: types.map((t) => SHORT[t]).join(',') });
  }
}

// State of the world: per type the names last answered (null: never), the response holds everything named.
class SotwStream extends Stream {
  constructor(call) {
    super(call, 'sotw');
  }

  version() {
    return `v${gen}`;
  }

  respond(type, names) {
    const all = resources.get(type);
    const list = [];
    if (names.length === 0) {
      for (const r of all.values()) {
        list.push(r.any);
      }
    } else {
      for (const name of names) {
        const r = all.get(name);
        if (r) {
          list.push(r.any);
        }
      }
    }
    this.types.set(type, names);
    this.write(type, { version_info: this.version(), type_url: type, resources: list }, list.length, 0);
  }

  onRequest(request) {
    const type = request.type_url;
    if (!resources.has(type)) {
      log('request', { stream: this.id, type, unknown: true });
      return;
    }
    const names = request.resource_names ?? [];
    const nonce = request.response_nonce ?? '';
    const version = request.version_info ?? '';
    if (nonce !== '') {
      if (this.last.get(type) !== nonce) {
        // An answer to a response that was superseded: the client will answer the newer one.
        this.answered(type, nonce, request.error_detail, version);
        log('stale', { stream: this.id, type: SHORT[type], nonce, names: names.length });
        return;
      }
      if (!this.answered(type, nonce, request.error_detail, version)) {
        // The nonce was answered before: a request for other names (or a repeat).
        log('request', { stream: this.id, type: SHORT[type], version, nonce, names: names.length });
      }
    } else {
      log('request', { stream: this.id, type: SHORT[type], version, names: names.length });
    }
    const previous = this.types.get(type);
    const namesChanged = !sameNames(previous, names);
    // Up to date (an ACK), or a NACK: wait for the next version. New names, or an old version: answer.
    if (!namesChanged && (version === this.version() || request.error_detail)) {
      return;
    }
    this.respond(type, names);
  }

  push() {
    const types = [];
    for (const type of ORDER) {
      if (this.types.has(type)) {
        types.push(type);
      }
    }
    const ts = Date.now();
    for (const type of types) {
      this.respond(type, this.types.get(type));
    }
    this.track(types, ts);
  }
}

// Incremental: per type wildcard or named subscriptions and the versions the client holds.
class DeltaStream extends Stream {
  constructor(call) {
    super(call, 'delta');
  }

  /** Sends what changed for `type` (resources whose version the client does not hold, names gone); returns whether anything went. */
  sendDiff(type) {
    const st = this.types.get(type);
    const all = resources.get(type);
    const changed = [];
    const removed = [];
    const consider = (name) => {
      const r = all.get(name);
      if (r && st.known.get(name) !== r.version) {
        changed.push({ name, version: r.version, resource: r.any });
        st.known.set(name, r.version);
      }
    };
    if (st.wildcard) {
      for (const name of all.keys()) {
        consider(name);
      }
    }
    for (const name of st.subscribed) {
      if (!st.wildcard || !all.has(name)) {
        consider(name);
      }
    }
    for (const name of [...st.known.keys()]) {
      if (!all.has(name) && (st.wildcard || st.subscribed.has(name))) {
        removed.push(name);
        st.known.delete(name);
      }
    }
    if (changed.length === 0 && removed.length === 0) {
      return false;
    }
    this.write(type, { system_version_info: `v${gen}`, type_url: type, resources: changed, removed_resources: removed }, changed.length, removed.length);
    return true;
  }

  onRequest(request) {
    const type = request.type_url;
    if (!resources.has(type)) {
      log('request', { stream: this.id, type, unknown: true });
      return;
    }
    const nonce = request.response_nonce ?? '';
    const subscribe = request.resource_names_subscribe ?? [];
    const unsubscribe = request.resource_names_unsubscribe ?? [];
    if (nonce !== '') {
      if (!this.answered(type, nonce, request.error_detail, '')) {
        log('stale', { stream: this.id, type: SHORT[type], nonce });
      }
    }
    let st = this.types.get(type);
    const first = !st;
    if (first) {
      const known = new Map(Object.entries(request.initial_resource_versions ?? {}));
      // The legacy wildcard: the first request of CDS or LDS subscribing to nothing.
      st = { wildcard: subscribe.length === 0 && WILDCARD_TYPES.has(type), subscribed: new Set(), known };
      this.types.set(type, st);
    }
    for (const name of subscribe) {
      if (name === '*') {
        st.wildcard = true;
      } else {
        st.subscribed.add(name);
      }
    }
    for (const name of unsubscribe) {
      if (name === '*') {
        st.wildcard = false;
      } else {
        st.subscribed.delete(name);
        st.known.delete(name);
      }
    }
    if (first || subscribe.length > 0 || unsubscribe.length > 0) {
      log('request', { stream: this.id, type: SHORT[type], first, wildcard: st.wildcard, subscribe: subscribe.length, unsubscribe: unsubscribe.length, held: st.known.size });
      this.sendDiff(type);
    }
  }

  push() {
    const ts = Date.now();
    const types = [];
    for (const type of ORDER) {
      if (this.types.has(type) && this.sendDiff(type)) {
        types.push(type);
      }
    }
    this.track(types, ts);
  }
}

function serve(StreamClass) {
  return (call) => {
    const stream = new StreamClass(call);
    streams.add(stream);
    log('stream_open', { stream: stream.id, kind: stream.kind });
    call.on('data', (request) => {
      try {
        stream.onRequest(request);
      } catch (e) {
        log('server_error', { stream: stream.id, message: String(e.stack ?? e) });
      }
    });
    const close = (why) => {
      if (streams.delete(stream)) {
        log('stream_closed', { stream: stream.id, why });
      }
    };
    call.on('error', (error) => close(String(error.message)));
    call.on('cancelled', () => close('cancelled'));
    call.on('end', () => {
      close('end');
      call.end();
    });
  };
}

function update(count) {
  if (count !== undefined) {
    clusters = count;
  }
  generate();
  for (const stream of streams) {
    stream.push();
  }
}

generate();
const service = adsService();
const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
server.addService(service, { streamAggregatedResources: serve(SotwStream), deltaAggregatedResources: serve(DeltaStream) });
server.bindAsync(`127.0.0.1:${args.port}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`bind failed: ${error.message}\n`);
    process.exit(1);
  }
  log('listening', { port });
});

function quit() {
  server.forceShutdown();
  process.exit(0);
}
process.on('SIGUSR2', () => update());
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'update') {
    update(arg !== undefined && /^\d+$/.test(arg) && Number(arg) > 0 ? Number(arg) : undefined);
  } else if (command === 'quit') {
    quit();
  } else if (command) {
    log('unknown_command', { line: line.trim() });
  }
});
lines.on('close', quit);

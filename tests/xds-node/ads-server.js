'use strict';
// A state-of-the-world ADS control plane built on Envoy's own .proto files (the ones @grpc/grpc-js-xds ships), so that
// the gateway's decoder is checked against Envoy's field numbers and not against the C# test encoder's, which shares
// the gateway's schema. Used by tests/Gateway.Core.Tests/Xds/NodeAdsCrossCheckTests.cs.
//
//   node ads-server.js <upstream-port> [listen-port]     (listen port also from ADS_PORT; default 0)
//
// Serves listener "main" (127.0.0.1, port 0) -> HttpConnectionManager "ingress" -> RDS "local" -> EDS cluster
// "backend" -> 127.0.0.1:<upstream-port>. Prints "listening <port>" once bound, then one JSON line per request
// received and per response sent. Exits when stdin closes.

const path = require('path');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// The protobufjs that proto-loader itself uses (not a dependency of ours, so resolved from proto-loader's folder).
const loaderDir = path.dirname(require.resolve('@grpc/proto-loader/package.json'));
const protobuf = require(require.resolve('protobufjs', { paths: [loaderDir] }));
require(require.resolve('protobufjs/ext/descriptor', { paths: [loaderDir] })); // google/protobuf/descriptor.proto

const xdsDeps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(xdsDeps, d));
for (const dir of includeDirs) {
  if (!fs.existsSync(dir)) {
    throw new Error(`${dir} is missing: @grpc/grpc-js-xds no longer ships Envoy's protos there`);
  }
}

const resourceProtos = [
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
];

const upstreamPort = Number(process.argv[2]);
const listenPort = Number(process.argv[3] ?? process.env.ADS_PORT ?? 0);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0 || upstreamPort > 65535 || !Number.isInteger(listenPort)) {
  process.stderr.write('usage: node ads-server.js <upstream-port> [listen-port]\n');
  process.exit(2);
}

// The resource types, straight from Envoy's .proto files; snake_case field names as in Envoy's YAML.
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of includeDirs) {
    const full = path.join(dir, target);
    if (fs.existsSync(full)) {
      return full;
    }
  }
  return target; // google/protobuf/*: protobufjs's bundled copies
};
root.loadSync(resourceProtos, { keepCase: true });
root.resolveAll();

/** A google.protobuf.Any holding `object` encoded as Envoy's message `typeName`. */
function pack(typeName, object) {
  const type = root.lookupType(typeName);
  checkFields(type, object, typeName);
  return { type_url: `type.googleapis.com/${typeName}`, value: Buffer.from(type.encode(type.fromObject(object)).finish()) };
}

/** Throws on a field name the message does not have: protobufjs's fromObject would drop it without a word. */
function checkFields(type, object, where) {
  for (const [key, value] of Object.entries(object)) {
    const field = type.fields[key];
    if (!field) {
      throw new Error(`${where}: ${type.fullName} has no field '${key}'`);
    }
    field.resolve();
    const nested = field.resolvedType;
    if (nested instanceof protobuf.Type && nested.fullName !== '.google.protobuf.Any' && value !== null && typeof value === 'object') {
      for (const [i, item] of (field.repeated ? value : [value]).entries()) {
        checkFields(nested, item, field.repeated ? `${where}.${key}[${i}]` : `${where}.${key}`);
      }
    }
  }
}

const ads = { resource_api_version: 'V3', ads: {} };
const types = {
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': {
    version: 'c1',
    resources: [{
      name: 'backend',
      any: pack('envoy.config.cluster.v3.Cluster', {
        name: 'backend',
        type: 'EDS',
        connect_timeout: { seconds: 1, nanos: 500000000 },
        lb_policy: 'LEAST_REQUEST',
        circuit_breakers: { thresholds: [{ max_requests: { value: 77 } }] },
        common_lb_config: { healthy_panic_threshold: { value: 40.5 } },
        eds_cluster_config: { eds_config: ads },
      }),
    }],
  },
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': {
    version: 'e1',
    resources: [{
      name: 'backend',
      any: pack('envoy.config.endpoint.v3.ClusterLoadAssignment', {
        cluster_name: 'backend',
        endpoints: [{
          locality: { zone: 'z1' },
          lb_endpoints: [{
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } } },
            health_status: 'HEALTHY',
            load_balancing_weight: { value: 3 },
          }],
        }],
      }),
    }],
  },
  'type.googleapis.com/envoy.config.listener.v3.Listener': {
    version: 'l1',
    resources: [{
      name: 'main',
      any: pack('envoy.config.listener.v3.Listener', {
        name: 'main',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        per_connection_buffer_limit_bytes: { value: 1048576 },
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
              stat_prefix: 'ingress',
              codec_type: 'AUTO',
              generate_request_id: { value: true },
              rds: { route_config_name: 'local', config_source: ads },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
            }),
          }],
        }],
      }),
    }],
  },
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': {
    version: 'r1',
    resources: [{
      name: 'local',
      any: pack('envoy.config.route.v3.RouteConfiguration', {
        name: 'local',
        virtual_hosts: [{
          name: 'all',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/node/' },
              route: { cluster: 'backend', prefix_rewrite: '/rewritten/', timeout: { seconds: 5 }, retry_policy: { retry_on: '5xx', num_retries: { value: 1 } } },
              request_headers_to_add: [{ header: { key: 'x-node-route', value: 'envoy-protos' } }],
            },
            { match: { prefix: '/' }, route: { cluster: 'backend' } },
          ],
        }],
      }),
    }],
  },
};

function log(entry) {
  process.stdout.write(JSON.stringify(entry) + '\n');
}

function sameNames(a, b) {
  return a !== undefined && a.length === b.length && a.every((name, i) => name === b[i]);
}

function streamAggregatedResources(call) {
  let nonce = 0;
  const lastNames = new Map(); // type_url -> resource_names of the last request answered
  call.on('data', (request) => {
    const names = request.resource_names ?? [];
    log({
      event: 'request',
      type_url: request.type_url,
      version_info: request.version_info ?? '',
      response_nonce: request.response_nonce ?? '',
      resource_names: names,
      error_detail: request.error_detail ? { code: request.error_detail.code ?? 0, message: request.error_detail.message ?? '' } : null,
      node_id: request.node ? request.node.id : null,
    });
    const served = types[request.type_url];
    // SotW: answer a subscription (no nonce yet) or a change of names; an ACK or a NACK needs no answer.
    if (!served || (request.response_nonce && sameNames(lastNames.get(request.type_url), names))) {
      return;
    }
    lastNames.set(request.type_url, [...names]);
    const resources = served.resources.filter((r) => names.length === 0 || names.includes(r.name)).map((r) => r.any);
    nonce += 1;
    const response = { version_info: served.version, type_url: request.type_url, nonce: String(nonce), resources };
    call.write(response);
    log({ event: 'response', type_url: request.type_url, version_info: served.version, nonce: String(nonce), resources: resources.length });
  });
  call.on('error', (error) => log({ event: 'stream_error', message: String(error.message) }));
  call.on('end', () => call.end());
}

const packageDefinition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: false,
  oneofs: true,
  includeDirs,
});
const service = grpc.loadPackageDefinition(packageDefinition).envoy.service.discovery.v3.AggregatedDiscoveryService.service;
const server = new grpc.Server();
server.addService(service, { streamAggregatedResources }); // delta: grpc-js answers UNIMPLEMENTED
server.bindAsync(`127.0.0.1:${listenPort}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`bind failed: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${port}\n`);
});

// The test stops the server by closing stdin (also when the test process dies).
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  server.forceShutdown();
  process.exit(0);
});
process.stdin.resume();

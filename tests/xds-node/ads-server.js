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

const { grpc, pack, adsService } = require('./envoy-protos');

const upstreamPort = Number(process.argv[2]);
const listenPort = Number(process.argv[3] ?? process.env.ADS_PORT ?? 0);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0 || upstreamPort > 65535 || !Number.isInteger(listenPort)) {
  process.stderr.write('usage: node ads-server.js <upstream-port> [listen-port]\n');
  process.exit(2);
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

const service = adsService();
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

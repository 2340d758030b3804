'use strict';
// Envoy's own .proto files (the ones @grpc/grpc-js-xds ships) for the Node control planes (tests/xds-node/ads-server.js,
// bench/xds-grpc-server.js): the resource types through protobufjs, to encode resources as Envoy's field numbers have
// them, and the ADS service through proto-loader.

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
root.loadSync([
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
], { keepCase: true });
root.resolveAll();

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

const checked = new Set();

/**
 * A google.protobuf.Any holding `object` encoded as Envoy's message `typeName`. Its field names are checked (every
 * object, or with `checkOnce` the first of each type: a generator of thousands of alike resources).
 */
function pack(typeName, object, checkOnce = false) {
  const type = root.lookupType(typeName);
  if (!checkOnce || !checked.has(typeName)) {
    checkFields(type, object, typeName);
    checked.add(typeName);
  }
  return { type_url: `type.googleapis.com/${typeName}`, value: Buffer.from(type.encode(type.fromObject(object)).finish()) };
}

/** The ADS service definition (StreamAggregatedResources, DeltaAggregatedResources) for a grpc-js server. */
function adsService() {
  const definition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true, enums: String, longs: String, defaults: false, oneofs: true, includeDirs,
  });
  return grpc.loadPackageDefinition(definition).envoy.service.discovery.v3.AggregatedDiscoveryService.service;
}

module.exports = { grpc, pack, adsService };

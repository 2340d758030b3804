#!/usr/bin/env python3
"""Writes the DiscoveryResponse files of bench/xds-scale.sh: N EDS clusters with E endpoints each (one EDS file per
cluster), a CDS file, and an RDS route table with one route per cluster. Files are written next to their final name
and moved into place, as Envoy's filesystem subscriptions expect.

usage: xds_files.py DIR CLUSTERS ENDPOINTS VERSION UPSTREAM_PORT [--only cds|eds|rds]
Cluster c0's endpoints are all the upstream (the route /r0 the load uses); the others are closed ports, never called.
"""
import os, sys

def move(path, text):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

def main():
    d, n, e, version, upstream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    only = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--only" else None
    eds_dir = os.path.join(d, "eds")
    os.makedirs(eds_dir, exist_ok=True)
    # The version changes every cluster (its connect timeout) and every endpoint port but c0's.
    timeout = 1 + (int(version) % 2)
    if only in (None, "eds"):
        for i in range(n):
            ports = [upstream] * e if i == 0 else [20000 + ((i * e + j + int(version)) % 40000) for j in range(e)]
            eps = ", ".join("{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: %d } } } }" % p for p in ports)
            move(os.path.join(eds_dir, "c%d.yaml" % i),
                 'version_info: "%s"\nresources:\n- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n  cluster_name: c%d\n  endpoints: [ { lb_endpoints: [ %s ] } ]\n' % (version, i, eps))
    if only in (None, "cds"):
        parts = ['version_info: "%s"\nresources:\n' % version]
        for i in range(n):
            parts.append('- { "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster, name: c%d, type: EDS, connect_timeout: %ds, eds_cluster_config: { eds_config: { path_config_source: { path: %s } } } }\n'
                         % (i, timeout, os.path.join(eds_dir, "c%d.yaml" % i)))
        move(os.path.join(d, "cds.yaml"), "".join(parts))
    if only in (None, "rds"):
        routes = ", ".join('{ match: { prefix: "/r%d" }, route: { cluster: c%d } }' % (i, i) for i in reversed(range(n)))
        move(os.path.join(d, "rds.yaml"),
             'version_info: "%s"\nresources:\n- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n  name: scale\n  virtual_hosts: [ { name: all, domains: ["*"], routes: [ %s ] } ]\n' % (version, routes))

main()

using Gateway.Configuration;

namespace Gateway.Filters.GrpcWeb;

/// <summary><c>envoy.extensions.filters.http.grpc_web.v3.GrpcWeb</c>: the filter has no settings.</summary>
[EnvoyType("envoy.extensions.filters.http.grpc_web.v3.GrpcWeb")]
public sealed class GrpcWebConfig : EnvoyMessage;

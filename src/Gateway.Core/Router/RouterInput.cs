namespace Gateway.Router;

/// <summary>What the connection manager hands the router with a request (a struct: nothing allocated).</summary>
/// <param name="StreamInfo">The request's stream info, where the router records host, attempts, flags, details and timing.</param>
/// <param name="PathAndQuery">The routed <c>:path</c> (normalized as the listener asks), which the upstream receives before any route rewrite.</param>
/// <param name="Scheme">The request's scheme (the absolute-form target's, else the connection's), for the retriable-request-header match.</param>
/// <param name="Internal">The request is internal (its codes count under <c>internal.</c>; router headers are honoured).</param>
/// <param name="StartTimestamp">When the request arrived (TimeProvider timestamp).</param>
/// <param name="Tunnel">The request was an upgrade or CONNECT: a local reply to it closes the connection.</param>
/// <param name="HealthCheck">A filter marked the request as a health check.</param>
internal readonly record struct RouterInput(Listeners.RequestStreamInfo StreamInfo, string PathAndQuery, string Scheme, bool Internal, long StartTimestamp, bool Tunnel, bool HealthCheck = false);

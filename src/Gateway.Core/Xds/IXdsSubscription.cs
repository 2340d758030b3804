namespace Gateway.Xds;

/// <summary>One xDS subscription (Envoy's Config::Subscription), read from a file or a gRPC stream: what the manager starts, stops and reports.</summary>
internal interface IXdsSubscription : IDisposable
{
    /// <summary>The subscription's stats.</summary>
    SubscriptionStats Stats { get; }

    /// <summary>The <c>version_info</c> of the last accepted response; null before one.</summary>
    string? VersionInfo { get; }

    /// <summary>The error of the last rejected or failed update; null when the last one was accepted.</summary>
    string? LastError { get; }

    /// <summary>
    /// Done once initialization may go on (Envoy's init target): a file is read at start; a gRPC subscription is done at
    /// its first response, accepted or not, or when <c>initial_fetch_timeout</c> passed (never, when it is 0).
    /// </summary>
    Task Initialized { get; }

    /// <summary>Starts reading (a file at once; a stream subscribes).</summary>
    void Start();
}

using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Xds;

/// <summary>
/// Envoy's GrpcSubscriptionImpl: one subscription on a <see cref="GrpcMux"/> stream, a wildcard (CDS, LDS) or one named
/// resource (an EDS cluster's assignment, an RDS route configuration). Its stats count as Envoy's do:
/// <c>update_attempt</c> at start and with every outcome, <c>update_success</c> (version, time, duration),
/// <c>update_rejected</c>, <c>update_failure</c> (the stream failed) and <c>init_fetch_timeout</c>.
/// </summary>
internal sealed partial class GrpcSubscription : IXdsSubscription
{
    private readonly IGrpcMux _mux;
    private readonly Func<DiscoveryResponse, string?> _onUpdate;
    private readonly Func<DiscoveryResponse, IReadOnlyList<string>, string?>? _onDelta;
    private readonly TimeSpan _initialFetchTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? _initTimer;
    private readonly bool _ownsMux;
    private bool _started;
    private bool _disposed;

    /// <param name="resourceName">The resource watched; null for all of the type (a wildcard).</param>
    /// <param name="onUpdate">Takes the response's part for this watch; returns null when it was accepted, else why not (it runs under the manager's lock).</param>
    /// <param name="onDelta">For a wildcard watch on an incremental stream: takes the resources added or changed and the names removed.</param>
    /// <param name="ownsMux">The stream is this subscription's alone (an <c>api_config_source</c>): it closes with it.</param>
    public GrpcSubscription(IGrpcMux mux, string typeUrl, string? resourceName, EnvoyConfigSource source, SubscriptionStats stats, TimeProvider time, ILogger logger,
        Func<DiscoveryResponse, string?> onUpdate, Func<DiscoveryResponse, IReadOnlyList<string>, string?>? onDelta = null, bool ownsMux = false)
    {
        _mux = mux;
        _onDelta = onDelta;
        _ownsMux = ownsMux;
        TypeUrl = typeUrl;
        ResourceName = resourceName;
        Stats = stats;
        _onUpdate = onUpdate;
        // Envoy's default: 15 s; 0 waits for ever.
        _initialFetchTimeout = source.InitialFetchTimeout ?? TimeSpan.FromSeconds(15);
        _time = time;
        _logger = logger;
    }

    public string TypeUrl { get; }

    public string? ResourceName { get; }

    public SubscriptionStats Stats { get; }

    public string? VersionInfo { get; private set; }

    public string? LastError { get; private set; }

    public Task Initialized => _initialized.Task;

    public void Start()
    {
        if (_started || _disposed)
        {
            return;
        }
        _started = true;
        if (_initialFetchTimeout > TimeSpan.Zero)
        {
            _initTimer = _time.CreateTimer(static state => ((GrpcSubscription)state!).OnInitialFetchTimeout(), this, _initialFetchTimeout, Timeout.InfiniteTimeSpan);
        }
        Stats.UpdateAttempt.Increment();
        _mux.Add(this);
    }

    /// <summary>The response's part for this watch (under the manager's lock): returns why it was rejected, or null.</summary>
    public string? Deliver(DiscoveryResponse response) => Apply(response, () => _onUpdate(response));

    /// <summary>An incremental response's changes for this wildcard watch (under the manager's lock): returns why they were rejected, or null.</summary>
    public string? DeliverDelta(DiscoveryResponse added, IReadOnlyList<string> removed)
        => Apply(added, () => _onDelta is { } onDelta ? onDelta(added, removed) : _onUpdate(added));

    private string? Apply(DiscoveryResponse response, Func<string?> update)
    {
        if (_disposed)
        {
            return null;
        }
        StopInitTimer();
        var start = _time.GetTimestamp();
        string? rejected;
        try
        {
            rejected = update();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Never a crash from a bad update: the last good configuration stays.
            rejected = e.Message;
        }
        if (rejected is not null)
        {
            Rejected(rejected);
            return rejected;
        }
        LastError = null;
        VersionInfo = response.VersionInfo ?? string.Empty;
        Stats.UpdateAttempt.Increment();
        Stats.Accepted(VersionInfo, _time.GetUtcNow());
        Stats.UpdateDuration.Record(_time.GetElapsedTime(start).TotalMilliseconds);
        _initialized.TrySetResult();
        return null;
    }

    /// <summary>The response could not be decoded or was refused.</summary>
    public void Rejected(string error)
    {
        StopInitTimer();
        LastError = error;
        Stats.UpdateRejected.Increment();
        Stats.UpdateAttempt.Increment();
        _initialized.TrySetResult();
    }

    /// <summary>The stream failed: counted, initialization still waits (Envoy's ConnectionFailure).</summary>
    public void ConnectionFailed()
    {
        Stats.UpdateFailure.Increment();
        Stats.UpdateAttempt.Increment();
    }

    private void OnInitialFetchTimeout()
    {
        if (_initialized.Task.IsCompleted || _disposed)
        {
            return;
        }
        Stats.InitFetchTimeout.Increment();
        Stats.UpdateAttempt.Increment();
        LogInitialFetchTimeout(_logger, TypeUrl);
        _initialized.TrySetResult();
    }

    private void StopInitTimer()
    {
        _initTimer?.Dispose();
        _initTimer = null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StopInitTimer();
        _mux.Remove(this);
        if (_ownsMux)
        {
            _mux.Dispose();
        }
        _initialized.TrySetResult();
    }

    [LoggerMessage(EventId = LogEvents.XdsInitialFetchTimeout, Level = LogLevel.Warning, Message = "gRPC config: initial fetch timed out for {TypeUrl}")]
    private static partial void LogInitialFetchTimeout(ILogger logger, string typeUrl);
}

using System.Net.Sockets;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Envoy's ActiveHealthCheckSession: checks one host every interval over its own connection (an
/// <see cref="IHealthCheckProbe"/>: <see cref="HttpHealthCheckProbe"/> or <see cref="TcpHealthCheckProbe"/>,
/// never YARP's), and moves the host's health flags as Envoy's handleSuccess / handleFailure do.
/// </summary>
internal sealed partial class HostHealthCheckSession
{
    private const HostHealthFlags ActiveHcFlags = HostHealthFlags.FailedActiveHc | HostHealthFlags.PendingActiveHc | HostHealthFlags.ActiveHcTimeout;

    private readonly ClusterHealthChecker _checker;
    private readonly CancellationTokenSource _stop;
    private Task _run = Task.CompletedTask;
    private int _numHealthy;
    private int _numUnhealthy;
    private bool _firstCheck = true;
    private bool _countedHealthy;
    private readonly TaskCompletionSource _firstCheckDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HostHealthCheckSession(ClusterHealthChecker checker, UpstreamHost host)
    {
        _checker = checker;
        Host = host;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(checker.Stopping);
    }

    public UpstreamHost Host { get; }

    /// <summary>Completes once the host's first check has a result (or the session stopped).</summary>
    public Task FirstCheck => _firstCheckDone.Task;

    private HealthCheckPlan Plan => _checker.Plan;

    /// <summary>Marks the host failed and pending its first check, then starts checking it.</summary>
    public void Start()
    {
        Host.ClearHealthFlag(HostHealthFlags.ActiveHcTimeout);
        Host.SetHealthFlag(HostHealthFlags.FailedActiveHc | HostHealthFlags.PendingActiveHc);
        _run = Task.Run(RunAsync);
    }

    /// <summary>Stops checking; completes once the last check has ended.</summary>
    public async Task StopAsync()
    {
        try
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
        await _run.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        // The cluster's transport socket for the host, or the one transport_socket_match_criteria picked.
        var cluster = _checker.Cluster;
        var plan = Plan;
        Func<Gateway.Tls.UpstreamTls?> tls = () => plan.TransportSocket is { } socket ? cluster.TransportAt(socket) : cluster.TransportOf(Host);
        using IHealthCheckProbe probe = Plan.Kind == HealthCheckKind.Tcp
            ? new TcpHealthCheckProbe(Plan, Host, _checker.Logger, _checker.Cluster.Name, tls)
            : new HttpHealthCheckProbe(Plan, Host, tls);
        try
        {
            if (Plan.InitialJitter > TimeSpan.Zero)
            {
                await Task.Delay(_checker.WithJitter(TimeSpan.Zero, Plan.InitialJitter), _checker.TimeProvider, token).ConfigureAwait(false);
            }
            while (!token.IsCancellationRequested)
            {
                var next = await CheckOnceAsync(probe, token).ConfigureAwait(false);
                _firstCheckDone.TrySetResult();
                await Task.Delay(next, _checker.TimeProvider, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A probe must never take the process down.
            Log.SessionFailed(_checker.Logger, _checker.Cluster.Name, Host.Address, ex);
        }
        finally
        {
            _firstCheckDone.TrySetResult();
            if (_countedHealthy)
            {
                _checker.Stats.Healthy.Decrement();
                _countedHealthy = false;
            }
            if (!_checker.Owns(this))
            {
                // Removed from the cluster or the checker stopped: without active health checking the host is healthy.
                Host.ClearHealthFlag(ActiveHcFlags);
            }
            _stop.Dispose();
        }
    }

    /// <summary>One check; returns the wait before the next one.</summary>
    internal async Task<TimeSpan> CheckOnceAsync(IHealthCheckProbe probe, CancellationToken token)
    {
        _checker.Stats.Attempt.Increment();
        using var timeout = new CancellationTokenSource(Plan.Timeout, _checker.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        ProbeResult result;
        try
        {
            result = await probe.CheckAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Log.CheckFailed(_checker.Logger, _checker.Cluster.Name, Host.Address, "timeout");
            return HandleFailure(FailureType.NetworkTimeout, retriable: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            result = ProbeResult.NetworkFailure(ex.Message);
        }

        switch (result.Outcome)
        {
            case ProbeOutcome.Success:
                return HandleSuccess();
            case ProbeOutcome.NetworkFailure:
                Log.CheckFailed(_checker.Logger, _checker.Cluster.Name, Host.Address, "network: " + result.Reason);
                return HandleFailure(FailureType.Network, retriable: false);
            default:
                Log.CheckFailed(_checker.Logger, _checker.Cluster.Name, Host.Address, result.Reason ?? "failed");
                return HandleFailure(FailureType.Active, result.Retriable);
        }
    }

    private TimeSpan HandleSuccess()
    {
        _numUnhealthy = 0;
        var transition = HealthTransition.Unchanged;
        if ((Host.HealthFlags & HostHealthFlags.FailedActiveHc) != 0)
        {
            // Envoy's handleSuccess stamps every pass of a failed host; slow start counts from the last one. Stamped
            // before the flag clears, so the load balancer rebuilt on that change sees it.
            Host.LastHcPassTime = _checker.TimeProvider.GetTimestamp();
            // The first result of a new host makes it healthy at once (faster start-up, as in Envoy).
            if (_firstCheck || ++_numHealthy >= Plan.HealthyThreshold)
            {
                Host.ClearHealthFlag(HostHealthFlags.ActiveHcTimeout | HostHealthFlags.FailedActiveHc);
                CountHealthy(true);
                transition = HealthTransition.Changed;
                Log.HostHealthy(_checker.Logger, _checker.Cluster.Name, Host.Address);
            }
            else
            {
                transition = HealthTransition.ChangePending;
            }
        }
        transition = ClearPending(transition);
        _checker.Stats.Success.Increment();
        _firstCheck = false;
        // successful_active_health_check_uneject_host: a passing check returns a host outlier detection ejected.
        Host.OutlierMonitor?.Detector.OnActiveHealthCheckSucceeded(Host);
        return _checker.NextInterval(healthy: true, transition);
    }

    private TimeSpan HandleFailure(FailureType type, bool retriable)
    {
        _numHealthy = 0;
        var network = type is FailureType.Network or FailureType.NetworkTimeout;
        var transition = HealthTransition.Unchanged;
        if ((Host.HealthFlags & HostHealthFlags.FailedActiveHc) == 0)
        {
            // A non-expected, non-retriable status fails the host at once; network failures count towards the threshold.
            if ((!network && !retriable) || ++_numUnhealthy >= Plan.UnhealthyThreshold)
            {
                Host.SetHealthFlag(HostHealthFlags.FailedActiveHc);
                CountHealthy(false);
                transition = HealthTransition.Changed;
                Log.HostUnhealthy(_checker.Logger, _checker.Cluster.Name, Host.Address, type.ToString());
            }
            else
            {
                transition = HealthTransition.ChangePending;
            }
        }
        if (type == FailureType.NetworkTimeout && (Host.HealthFlags & HostHealthFlags.FailedActiveHc) != 0)
        {
            Host.SetHealthFlag(HostHealthFlags.ActiveHcTimeout);
        }
        else
        {
            Host.ClearHealthFlag(HostHealthFlags.ActiveHcTimeout);
        }
        transition = ClearPending(transition);
        _checker.Stats.Failure.Increment();
        if (network)
        {
            _checker.Stats.NetworkFailure.Increment();
        }
        _firstCheck = false;
        return _checker.NextInterval(healthy: false, transition);
    }

    private HealthTransition ClearPending(HealthTransition transition)
    {
        if ((Host.HealthFlags & HostHealthFlags.PendingActiveHc) != 0)
        {
            Host.ClearHealthFlag(HostHealthFlags.PendingActiveHc);
            return HealthTransition.Changed;
        }
        return transition;
    }

    private void CountHealthy(bool healthy)
    {
        if (healthy && !_countedHealthy)
        {
            _checker.Stats.Healthy.Increment();
            _countedHealthy = true;
        }
        else if (!healthy && _countedHealthy)
        {
            _checker.Stats.Healthy.Decrement();
            _countedHealthy = false;
        }
    }

    /// <summary>Envoy's HealthCheckFailureType (the kinds this checker produces).</summary>
    private enum FailureType
    {
        Active,
        Network,
        NetworkTimeout,
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.HealthCheckFailedDebug, Level = LogLevel.Debug, Message = "hc failed: cluster={Cluster} host={Host} reason={Reason}")]
        public static partial void CheckFailed(ILogger logger, string cluster, string host, string reason);

        [LoggerMessage(EventId = LogEvents.HealthCheckFailed, Level = LogLevel.Warning, Message = "health check failed: cluster={Cluster} host={Host} failure_type={FailureType}; host is now unhealthy (/failed_active_hc)")]
        public static partial void HostUnhealthy(ILogger logger, string cluster, string host, string failureType);

        [LoggerMessage(EventId = LogEvents.HealthCheckPassed, Level = LogLevel.Information, Message = "health check passed: cluster={Cluster} host={Host}; host is now healthy")]
        public static partial void HostHealthy(ILogger logger, string cluster, string host);

        [LoggerMessage(EventId = LogEvents.HealthCheckStopped, Level = LogLevel.Error, Message = "health checking of cluster={Cluster} host={Host} stopped after an unexpected error")]
        public static partial void SessionFailed(ILogger logger, string cluster, string host, Exception exception);
    }
}

using Gateway.Resilience;
using Gateway.Router;
using Gateway.Stats;
using Polly;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Router;

/// <summary>The one place that charges upstream_rq_*: each outcome kind's stats, exactly.</summary>
public class UpstreamAccountingTests
{
    private readonly StatsStore _store = new();

    private ClusterStats Stats() => new(_store, "c");

    private long Value(string name) => _store.Counter("cluster.c." + name).Value;

    [Fact]
    public void Response_ExternalRequest_ChargesTotalCodeClassCompletedAndExternal()
    {
        UpstreamAccounting.Response(Stats(), 201, internalRequest: false, healthCheck: false);

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(1, Value("upstream_rq_201"));
        Assert.Equal(1, Value("upstream_rq_2xx"));
        Assert.Equal(1, Value("upstream_rq_completed"));
        Assert.Equal(1, Value("external.upstream_rq_201"));
        Assert.Equal(0, Value("internal.upstream_rq_201"));
    }

    [Fact]
    public void HeldForRetry_ChargesTotalAndRetryCodesOnly()
    {
        UpstreamAccounting.HeldForRetry(Stats(), 503);

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(1, Value("retry.upstream_rq_503"));
        Assert.Equal(0, Value("upstream_rq_503"));
    }

    [Fact]
    public void Reset_ProtocolError_ChargesTotalRxResetAndConnectionProtocolError()
    {
        UpstreamAccounting.Reset(Stats(), new AttemptOutcome(AttemptKind.Reset, 0, "protocol error", ForwarderError.ResponseHeaders, null, true));

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(1, Value("upstream_rq_rx_reset"));
        Assert.Equal(1, Value("upstream_cx_protocol_error"));
    }

    [Fact]
    public void PerTryTimeout_NotOnConnection_ChargesPerTryTimeoutOnly()
    {
        UpstreamAccounting.PerTryTimeout(Stats(), new AttemptOutcome(AttemptKind.PerTryTimeout, 0, null, ForwarderError.RequestCanceled, null, false));

        Assert.Equal(1, Value("upstream_rq_per_try_timeout"));
        Assert.Equal(0, Value("upstream_rq_total"));
    }

    [Fact]
    public void Response_HealthCheck_ChargesTotalButNoCodes()
    {
        UpstreamAccounting.Response(Stats(), 200, internalRequest: false, healthCheck: true);

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(0, Value("upstream_rq_200"));
        Assert.Equal(0, Value("upstream_rq_2xx"));
        Assert.Equal(0, Value("upstream_rq_completed"));
    }

    [Fact]
    public void RouteTimeout_OnConnectionBeforeHeaders_ChargesTotalTimeoutAnd504()
    {
        UpstreamAccounting.RouteTimeout(Stats(), new AttemptOutcome(AttemptKind.Cancelled, 0, null, ForwarderError.RequestCanceled, null, true), internalRequest: true, healthCheck: false, responseStarted: false);

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(1, Value("upstream_rq_timeout"));
        Assert.Equal(1, Value("upstream_rq_504"));
        Assert.Equal(1, Value("internal.upstream_rq_504"));
    }

    [Fact]
    public void ClientAborted_BodyFailedOnConnection_ChargesTotalAndTxReset()
    {
        var stats = Stats();
        UpstreamAccounting.ClientAborted(stats, new AttemptOutcome(AttemptKind.ClientAborted, 0, null, ForwarderError.RequestBodyClient, null, true));
        UpstreamAccounting.ClientAborted(stats, new AttemptOutcome(AttemptKind.ClientAborted, 0, null, ForwarderError.RequestCanceled, null, true));

        Assert.Equal(1, Value("upstream_rq_total"));
        Assert.Equal(1, Value("upstream_rq_tx_reset"));
        Assert.Equal(1, Value("upstream_rq_cancelled"));
    }

    [Fact]
    public void ShouldRetry_ResetWithRetryOnReset_SchedulesRetryAndHoldsSlot()
    {
        var request = Gateway.Tests.Resilience.TestRequests.State(retryPolicy: "{ retry_on: reset, num_retries: 1 }");
        request.RetriesRemaining = 1;
        request.CanReplay = true;
        request.BeginAttempt();
        request.LastOutcome = new AttemptOutcome(AttemptKind.Reset, 0, "connection termination", ForwarderError.Request, null, true);

        var retry = ((IPipelineRequest)request).ShouldRetry(Outcome.FromResult(request.LastOutcome.Kind));

        Assert.True(retry);
        Assert.True(request.HoldsRetrySlot);
        Assert.Equal(0, request.RetriesRemaining);
        request.ReleaseRetrySlot();
    }

    [Fact]
    public void ShouldRetry_ConnectFailureWithRetryOnResetOnly_IsNotRetried()
    {
        var request = Gateway.Tests.Resilience.TestRequests.State(retryPolicy: "{ retry_on: refused-stream, num_retries: 1 }");
        request.RetriesRemaining = 1;
        request.CanReplay = true;
        request.BeginAttempt();
        request.LastOutcome = new AttemptOutcome(AttemptKind.ConnectFailure, 0, "connection timeout", ForwarderError.Request, null, false);

        Assert.False(((IPipelineRequest)request).ShouldRetry(Outcome.FromResult(request.LastOutcome.Kind)));
        Assert.Equal(1, request.RetriesRemaining);
    }

    [Fact]
    public void ShouldRetry_PerTryTimeoutAfterResponseHeaders_IsNotRetriedNorCharged()
    {
        var request = Gateway.Tests.Resilience.TestRequests.State(retryPolicy: "{ retry_on: 5xx, num_retries: 1, per_try_timeout: 1s }");
        request.RetriesRemaining = 1;
        request.BeginAttempt();
        request.LastOutcome = new AttemptOutcome(AttemptKind.Response, 200, null, ForwarderError.None, null, true);

        Assert.False(((IPipelineRequest)request).ShouldRetry(Outcome.FromException<AttemptKind>(new TimeoutRejectedException())));
        Assert.Equal(0, request.Route.Cluster!.Stats.UpstreamRqPerTryTimeout.Value);
    }
}

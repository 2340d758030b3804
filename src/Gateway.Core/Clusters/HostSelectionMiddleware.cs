using Gateway.Clusters.LoadBalancing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters;

/// <summary>
/// Envoy's host selection, in place of YARP's load-balancing step: the cluster's picker (its <c>lb_policy</c>)
/// picks one of the available hosts; a retry whose policy has the <c>previous_hosts</c> predicate picks again, up
/// to <c>host_selection_retry_max_attempts</c> times, while the pick is a host already tried, and then goes to the
/// last pick (Envoy's LoadBalancerBase::chooseHost); picks made in panic mode count <c>lb_healthy_panic</c>; no
/// host at all ends in Envoy's 503 <c>no healthy upstream</c>.
/// </summary>
internal sealed class HostSelectionMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.Get<ILoadBalancerContext>();
        if (request is null)
        {
            // An application's own YARP route: YARP's steps before this one chose the destination.
            return next(context);
        }
        var proxy = context.GetReverseProxyFeature();
        var destinations = proxy.AvailableDestinations;
        DestinationState? picked;
        var panicPicks = 0;
        var cluster = request.Cluster;
        if (cluster?.Picker is ISubsetPicker subsets)
        {
            // The subset load balancer decides even over one host (it may be outside the request's subset).
            var criteria = request.MetadataMatchCriteria;
            ulong? hash = subsets.UsesHash ? request.ComputeHashKey() ?? subsets.RandomHash() : null;
            var pick = subsets.Pick(criteria, hash, 0);
            panicPicks += pick is { Panic: true } ? 1 : 0;
            picked = pick?.Destination;
            var reselect = request.HostSelectionRetryCount;
            for (var attempt = 1; attempt <= reselect && picked is not null && request.ShouldSelectAnotherHost(picked); attempt++)
            {
                pick = subsets.Pick(criteria, hash, attempt);
                panicPicks += pick is { Panic: true } ? 1 : 0;
                picked = pick?.Destination;
            }
        }
        else if (destinations.Count <= 1 && !(cluster is { InPanic: true, FailsTrafficOnPanic: true, Picker: not null }))
        {
            // One host is the pick, unless a level in panic fails its picks (fail_traffic_on_panic): the picker decides then.
            picked = destinations.Count == 0 ? null : destinations[0];
            panicPicks = picked is not null && request.Cluster.InPanic ? 1 : 0;
        }
        else if (cluster is { Picker: { } picker })
        {
            // Envoy's ThreadAwareLoadBalancerBase::chooseHost: one hash (random without a key) for every re-pick.
            ulong? hash = picker is HashingPicker hashing ? request.ComputeHashKey() ?? hashing.RandomHash() : null;
            var pick = picker.Pick(hash, 0);
            // Envoy counts lb_healthy_panic on every pick whose priority level is in panic (re-picks included).
            panicPicks += pick is { Panic: true } ? 1 : 0;
            picked = pick?.Destination;
            var reselect = request.HostSelectionRetryCount;
            for (var attempt = 1; attempt <= reselect && picked is not null && request.ShouldSelectAnotherHost(picked); attempt++)
            {
                pick = picker.Pick(hash, attempt);
                panicPicks += pick is { Panic: true } ? 1 : 0;
                picked = pick?.Destination;
            }
        }
        else
        {
            // No plan applied yet for the cluster (a configuration being swapped in): the first available host.
            picked = destinations[0];
        }

        if (picked is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Features.Set<IForwarderErrorFeature>(NoHealthyUpstreamError.Instance);
            return Task.CompletedTask;
        }
        if (panicPicks > 0)
        {
            request.Cluster.Stats.LbHealthyPanic.Add(panicPicks);
        }
        if (!request.OnHostSelected(picked))
        {
            return Task.CompletedTask;
        }
        proxy.AvailableDestinations = picked;
        return next(context);
    }

    /// <summary>What YARP's own step reports when there is no destination; the router answers it.</summary>
    private sealed class NoHealthyUpstreamError : IForwarderErrorFeature
    {
        public static readonly NoHealthyUpstreamError Instance = new();

        public ForwarderError Error => ForwarderError.NoAvailableDestinations;

        public Exception? Exception => null;
    }
}

using System.Globalization;
using System.Text;
using Gateway.Clusters;
using Gateway.Clusters.OutlierDetection;
using Gateway.Hosting;
using Gateway.Translation;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Admin;

/// <summary>
/// <c>/clusters</c> (clusters_handler.cc): per cluster its observability name, Envoy's default circuit
/// breaker thresholds and <c>added_via_api</c>, then per host (YARP's destinations after DNS, as
/// <c>ip:port</c>) the host stats sorted by name and the host's attributes; or <c>?format=json</c>, the
/// <c>envoy.admin.v3.Clusters</c> proto. Clusters are listed in configuration order.
/// </summary>
internal sealed class ClustersHandler(IEnvoyGateway gateway, ClusterRegistry clusters, IServiceProvider services)
{
    /// <summary>
    /// A priority's thresholds in Envoy's order (max_connections, max_pending_requests, max_requests, max_retries).
    /// With a retry budget, max_retries is the budget's current limit (Envoy prints <c>retries().max()</c>).
    /// </summary>
    private (string Name, long Value)[] Thresholds(Translation.ClusterPlan plan, int priority)
    {
        var t = plan.Thresholds[priority];
        long retries = t.MaxRetries;
        if (t.RetryBudget is not null)
        {
            retries = clusters.TryGet(plan.Name, out var runtime) ? runtime.RetryLimit((Configuration.RoutingPriority)priority) : t.RetryLimit(0);
        }
        return [("max_connections", t.MaxConnections), ("max_pending_requests", t.MaxPendingRequests), ("max_requests", t.MaxRequests), ("max_retries", retries)];
    }

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/clusters", "upstream cluster status", false, request => request.Value("format") == "json"
            ? AdminResponse.Json(Json().ToPrettyString())
            : AdminResponse.Ok(Text())),
    ];

    private string Text()
    {
        var text = new StringBuilder();
        foreach (var plan in gateway.Plan.ClusterPlans)
        {
            var name = plan.Name;
            text.Append(name).Append("::observability_name::").Append(name).Append('\n');
            var detector = Detector(plan);
            if (plan.OutlierDetection is not null)
            {
                // Envoy prints these ({:g}) only for clusters with a detector; -1 until an interval computed them.
                // Local-origin values need split_external_local_origin_errors, so they stay -1.
                var average = detector?.SuccessRateAverage ?? -1;
                var threshold = detector?.SuccessRateEjectionThreshold ?? -1;
                text.Append(name).Append("::outlier::success_rate_average::").Append(FormatG(average)).Append('\n')
                    .Append(name).Append("::outlier::success_rate_ejection_threshold::").Append(FormatG(threshold)).Append('\n')
                    .Append(name).Append("::outlier::local_origin_success_rate_average::-1\n")
                    .Append(name).Append("::outlier::local_origin_success_rate_ejection_threshold::-1\n");
            }
            foreach (var (priority, index) in new[] { ("default", 0), ("high", 1) })
            {
                foreach (var (threshold, value) in Thresholds(plan, index))
                {
                    text.Append(name).Append("::").Append(priority).Append("_priority::").Append(threshold).Append("::")
                        .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
            text.Append(name).Append("::added_via_api::false\n");
            foreach (var host in Hosts(plan))
            {
                var prefix = name + "::" + host.Address + "::";
                foreach (var (stat, value) in host.SortedStats())
                {
                    text.Append(prefix).Append(stat).Append("::").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(prefix).Append("hostname::").Append(host.Hostname).Append('\n')
                    .Append(prefix).Append("health_flags::").Append(host.HealthFlags).Append('\n')
                    .Append(prefix).Append("weight::").Append(host.Weight.ToString(CultureInfo.InvariantCulture)).Append('\n')
                    .Append(prefix).Append("region::").Append(host.Locality.Region).Append('\n')
                    .Append(prefix).Append("zone::").Append(host.Locality.Zone).Append('\n')
                    .Append(prefix).Append("sub_zone::").Append(host.Locality.SubZone).Append('\n')
                    .Append(prefix).Append("canary::false\n")
                    .Append(prefix).Append("priority::").Append(host.Priority.ToString(CultureInfo.InvariantCulture)).Append('\n')
                    .Append(prefix).Append("success_rate::").Append(FormatShortest(OutlierDetector.SuccessRateOf(host.Host, detector))).Append('\n')
                    .Append(prefix).Append("local_origin_success_rate::-1\n");
            }
        }
        return text.ToString();
    }

    private ProtoObject Json()
    {
        var statuses = new ProtoList();
        foreach (var plan in gateway.Plan.ClusterPlans)
        {
            var status = new ProtoObject().Add("name", ProtoJson.String(plan.Name));
            var detector = Detector(plan);
            // Envoy sets success_rate_ejection_threshold (a Percent) only when it is above 0.
            if (detector?.SuccessRateEjectionThreshold is > 0 and var ejectionThreshold)
            {
                status.Add("success_rate_ejection_threshold", new ProtoObject().Add("value", ProtoJson.Double(ejectionThreshold)));
            }
            var hosts = new ProtoList();
            foreach (var host in Hosts(plan))
            {
                hosts.Add(HostJson(host, OutlierDetector.SuccessRateOf(host.Host, detector)));
            }
            if (hosts.Items.Count > 0)
            {
                status.Add("host_statuses", hosts);
            }
            var thresholds = new ProtoList();
            foreach (var high in new[] { false, true })
            {
                var threshold = new ProtoObject();
                if (high)
                {
                    threshold.Add("priority", ProtoJson.String("HIGH"));
                }
                foreach (var (name, value) in Thresholds(plan, high ? 1 : 0))
                {
                    threshold.Add(name, ProtoJson.Number(value));
                }
                thresholds.Add(threshold);
            }
            status.Add("circuit_breakers", new ProtoObject().Add("thresholds", thresholds));
            status.Add("observability_name", ProtoJson.String(plan.Name));
            statuses.Add(status);
        }
        var root = new ProtoObject();
        if (statuses.Items.Count > 0)
        {
            root.Add("cluster_statuses", statuses);
        }
        return root;
    }

    /// <summary><c>envoy.admin.v3.HostStatus</c>: default values left out, as protobuf prints them.</summary>
    private static ProtoObject HostJson(HostView host, double successRate)
    {
        var stats = new ProtoList();
        foreach (var (name, value, gauge) in host.ProtoStats())
        {
            var metric = new ProtoObject();
            if (gauge)
            {
                metric.Add("type", ProtoJson.String("GAUGE"));
            }
            if (value != 0)
            {
                metric.Add("value", ProtoJson.Int64(value));
            }
            stats.Add(metric.Add("name", ProtoJson.String(name)));
        }
        var health = new ProtoObject();
        if (host.FailedActiveHealthCheck)
        {
            health.Add("failed_active_health_check", ProtoJson.Bool(true));
        }
        if (host.FailedOutlierCheck)
        {
            health.Add("failed_outlier_check", ProtoJson.Bool(true));
        }
        if ((host.Host.HealthFlags & HostHealthFlags.PendingActiveHc) != 0)
        {
            health.Add("pending_active_hc", ProtoJson.Bool(true));
        }
        if ((host.Host.HealthFlags & HostHealthFlags.ActiveHcTimeout) != 0)
        {
            health.Add("active_hc_timeout", ProtoJson.Bool(true));
        }
        // Envoy's setHealthFlag: UNHEALTHY for /failed_eds_health, DEGRADED for /degraded_eds_health, else HEALTHY.
        var eds = host.Host.HealthFlags;
        health.Add("eds_health_status", ProtoJson.String(
            (eds & HostHealthFlags.FailedEdsHealth) != 0 ? "UNHEALTHY" : (eds & HostHealthFlags.DegradedEdsHealth) != 0 ? "DEGRADED" : "HEALTHY"));

        var status = new ProtoObject()
            .Add("address", ListenersHandler.SocketAddress(host.Ip, host.Port))
            .Add("stats", stats)
            .Add("health_status", health);
        if (successRate >= 0)
        {
            status.Add("success_rate", new ProtoObject().Add("value", ProtoJson.Double(successRate)));
        }
        status.Add("weight", ProtoJson.Number(host.Weight));
        if (host.Hostname.Length > 0)
        {
            status.Add("hostname", ProtoJson.String(host.Hostname));
        }
        if (host.Priority != 0)
        {
            status.Add("priority", ProtoJson.Number(host.Priority));
        }
        // envoy.config.core.v3.Locality: empty strings left out, as protobuf prints them.
        var locality = new ProtoObject();
        if (host.Locality.Region.Length > 0)
        {
            locality.Add("region", ProtoJson.String(host.Locality.Region));
        }
        if (host.Locality.Zone.Length > 0)
        {
            locality.Add("zone", ProtoJson.String(host.Locality.Zone));
        }
        if (host.Locality.SubZone.Length > 0)
        {
            locality.Add("sub_zone", ProtoJson.String(host.Locality.SubZone));
        }
        return status.Add("locality", locality);
    }

    /// <summary>The cluster's running outlier detector, if it has one.</summary>
    private OutlierDetector? Detector(ClusterPlan plan)
        => plan.OutlierDetection is not null && clusters.TryGet(plan.Name, out var runtime) ? runtime.OutcomeObserver as OutlierDetector : null;

    /// <summary>fmt's <c>{:g}</c>: six significant digits, exponent in C's lower-case form.</summary>
    internal static string FormatG(double value) => value.ToString("G6", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    /// <summary>fmt's <c>{}</c> for a double: the shortest text that reads back the same.</summary>
    internal static string FormatShortest(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The cluster's hosts as YARP holds them (after DNS), in configuration order.</summary>
    private List<HostView> Hosts(ClusterPlan plan)
    {
        var result = new List<HostView>();
        var lookup = services.GetService<IProxyStateLookup>();
        if (lookup is null || !lookup.TryGetCluster(plan.Name, out var cluster) || !clusters.TryGet(plan.Name, out var runtime))
        {
            return result;
        }
        foreach (var destination in cluster.Destinations.Values)
        {
            result.Add(new HostView(destination, runtime.Host(destination), Order(plan, destination)));
        }
        // Envoy lists the hosts priority by priority (its host sets in order), each in configuration order.
        result.Sort(static (a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority)
            : a.Order != b.Order ? a.Order.CompareTo(b.Order)
            : string.CompareOrdinal(a.Address, b.Address));
        return result;
    }

    /// <summary>Where the destination's endpoint is in the configuration (by address, or by DNS name for DNS clusters).</summary>
    private static int Order(ClusterPlan plan, DestinationState destination)
    {
        var hostPort = ClusterRuntime.HostPortOf(destination.Model.Config.Address);
        for (var i = 0; i < plan.Endpoints.Count; i++)
        {
            var endpoint = plan.Endpoints[i];
            if (string.Equals(EnvoyTranslator.FormatHostPort(endpoint.Address, endpoint.Port), hostPort, StringComparison.OrdinalIgnoreCase)
                || (endpoint.Hostname is not null && string.Equals(endpoint.Hostname, destination.Model.Config.Host, StringComparison.OrdinalIgnoreCase)))
            {
                return i;
            }
        }
        return int.MaxValue;
    }

    /// <summary>One host as <c>/clusters</c> shows it.</summary>
    private sealed class HostView(DestinationState destination, UpstreamHost host, int order)
    {
        public int Order { get; } = order;

        public string Address { get; } = ClusterRuntime.HostPortOf(destination.Model.Config.Address);

        public string Ip => Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var uri) ? uri.Host.Trim('[', ']') : Address;

        public int Port => Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var uri) ? uri.Port : 0;

        public string Hostname { get; } = destination.Model.Config.Host ?? string.Empty;

        public UpstreamHost Host => host;

        /// <summary>The endpoint's <c>load_balancing_weight</c>.</summary>
        public uint Weight => host.Endpoint?.Weight ?? 1;

        /// <summary>The endpoint's priority level.</summary>
        public int Priority => host.Endpoint?.Priority ?? 0;

        /// <summary>The endpoint's locality (empty strings when it has none).</summary>
        public LocalityPlan Locality => host.Endpoint?.Locality ?? LocalityPlan.None;

        public bool FailedActiveHealthCheck => (host.HealthFlags & HostHealthFlags.FailedActiveHc) != 0;

        public bool FailedOutlierCheck => (host.HealthFlags & HostHealthFlags.FailedOutlierCheck) != 0;

        /// <summary>Envoy's health flag string: <c>healthy</c>, or the flags concatenated.</summary>
        public string HealthFlags => HostHealthText.Format(host.HealthFlags);

        /// <summary>Counters and gauges merged and sorted by name, as the text output lists them.</summary>
        public IEnumerable<(string Name, long Value)> SortedStats() =>
        [
            ("cx_active", host.CxActive), ("cx_connect_fail", host.CxConnectFail), ("cx_total", host.CxTotal),
            ("rq_active", host.RqActive), ("rq_error", host.RqError), ("rq_success", host.RqSuccess),
            ("rq_timeout", host.RqTimeout), ("rq_total", host.RqTotal),
        ];

        /// <summary>Counters then gauges, in Envoy's ALL_HOST_STATS order, as the JSON output lists them.</summary>
        public IEnumerable<(string Name, long Value, bool Gauge)> ProtoStats() =>
        [
            ("cx_connect_fail", host.CxConnectFail, false), ("cx_total", host.CxTotal, false), ("rq_error", host.RqError, false),
            ("rq_success", host.RqSuccess, false), ("rq_timeout", host.RqTimeout, false), ("rq_total", host.RqTotal, false),
            ("cx_active", host.CxActive, true), ("rq_active", host.RqActive, true),
        ];
    }
}

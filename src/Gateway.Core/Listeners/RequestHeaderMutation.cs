using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Gateway.Tracing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Listeners;

/// <summary>What the connection manager's request header mutation decided about a request's origin.</summary>
/// <param name="Internal">The trusted client address is internal (<c>x-envoy-internal: true</c> was set).</param>
/// <param name="Edge">
/// The request comes from outside into the trusted network: <c>use_remote_address</c> and not internal (Envoy's
/// edge_request); its <c>x-request-id</c> is replaced unless <c>preserve_external_request_id</c>.
/// </param>
/// <param name="ClientAddress">
/// The trusted client address (Envoy's final_remote_address: from <c>x-forwarded-for</c> or the connection), which Envoy
/// makes the stream's downstream remote address; null when the connection has no IP address.
/// </param>
/// <param name="FromForwardedFor">
/// <see cref="ClientAddress"/> was read from <c>x-forwarded-for</c>: Envoy parses it into an address with port 0, which
/// <c>%DOWNSTREAM_REMOTE_ADDRESS%</c> then prints; otherwise it is the connection's peer, port included.
/// </param>
internal readonly record struct RequestOrigin(bool Internal, bool Edge, IPAddress? ClientAddress, bool FromForwardedFor = false)
{
    /// <summary>Not null: an original IP detection extension refused the request with this status (nothing else was changed).</summary>
    public int? RejectStatus { get; init; }

    /// <summary>The stream's downstream remote address when it is not the connection's peer (<see cref="RequestStreamInfo.ForwardedRemoteAddress"/>).</summary>
    public IPAddress? ForwardedRemoteAddress => FromForwardedFor ? ClientAddress : null;
}

/// <summary>
/// Envoy's ConnectionManagerUtility (source/common/http/conn_manager_utility.cc) for the headers this gateway supports:
/// mutateRequestHeaders (x-forwarded-for with <c>use_remote_address</c>, <c>xff_num_trusted_hops</c> and
/// <c>skip_xff_append</c>; x-forwarded-proto; internal or external; x-envoy-external-address; <c>via</c>; x-request-id),
/// mutateTracingRequestHeader (the tracing decision and the request id's trace nibble) and mutateResponseHeaders
/// (x-request-id echoed, <c>via</c>).
/// </summary>
internal static class RequestHeaderMutation
{
    /// <summary><c>x-forwarded-for</c>.</summary>
    public const string ForwardedFor = "x-forwarded-for";

    /// <summary><c>x-envoy-external-address</c>: the trusted client address of an edge request.</summary>
    public const string ExternalAddress = "x-envoy-external-address";

    /// <summary><c>x-client-trace-id</c>: the client asks for a trace (subject to <c>client_sampling</c>).</summary>
    public const string ClientTraceId = "x-client-trace-id";

    /// <summary><c>x-envoy-force-trace</c>: an internal request forces a trace.</summary>
    public const string ForceTrace = "x-envoy-force-trace";

    /// <summary><c>via</c>.</summary>
    public const string Via = "via";

    /// <summary>Headers Envoy removes from external requests besides x-envoy-internal (cleanInternalHeaders).</summary>
    private static readonly string[] InternalOnlyHeaderNames =
    [
        "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on",
        "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
        "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
        ForceTrace, "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
    ];

    /// <summary>Headers Envoy also removes from edge requests (cleanInternalHeaders with edge_request).</summary>
    private static readonly string[] EdgeOnlyHeaderNames =
    [
        "x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
    ];

    private static readonly Lazy<string> LocalAddress = new(FindLocalAddress);

    /// <summary>
    /// Envoy's local_info address (Network::Utility::getLocalAddress, IPv4): the first IPv4 address of the machine's
    /// interfaces that is not a loopback one, else 127.0.0.1. With <c>use_remote_address</c>, a loopback peer is
    /// recorded in <c>x-forwarded-for</c> as this address.
    /// </summary>
    public static string LocalAddressText => LocalAddress.Value;

    /// <summary>
    /// Envoy's mutateRequestHeaders, the parts of it that concern the client's address and identity. Returns whether the
    /// request is internal or an edge request, and the trusted client address.
    /// </summary>
    public static RequestOrigin MutateRequestHeaders(HttpContext context, ConnectionManagerPlan plan, IReadOnlyList<IPNetwork> internalRanges, Tracing.LocalNode? userAgentNode = null, OriginalIpDetector[]? detectors = null)
    {
        var request = context.Request;
        var headers = request.Headers;
        headers.Remove(InternalRequest.InternalHeader);

        var remote = Unmapped(context.Connection.RemoteIpAddress);
        IPAddress? clientAddress = null;
        var fromForwardedFor = false;
        bool allowTrustedAddressChecks;
        var hops = plan.XffNumTrustedHops;
        if (plan.UseRemoteAddress)
        {
            var forwardedFor = headers[ForwardedFor];
            allowTrustedAddressChecks = forwardedFor.Count == 0;
            if (hops > 0)
            {
                // Trusted proxies in front: the client is the address the last of them saw, read before we append ours.
                clientAddress = LastAddressFromXff(forwardedFor, hops - 1, out _);
                fromForwardedFor = clientAddress is not null;
            }
            clientAddress ??= remote;
            if (!plan.SkipXffAppend && remote is not null)
            {
                headers[ForwardedFor] = AppendXff(forwardedFor, IPAddress.IsLoopback(remote) ? LocalAddressText : remote.ToString());
            }
            // An untrusted previous hop's x-forwarded-proto is overwritten.
            if (hops == 0 || StringValues.IsNullOrEmpty(headers[EnvoyHeaders.ForwardedProto]))
            {
                headers[EnvoyHeaders.ForwardedProto] = request.IsHttps ? "https" : "http";
            }
            // x-forwarded-port likewise (below, without use_remote_address, only an absent one is set).
            if (plan.AppendXForwardedPort && hops == 0)
            {
                headers[EnvoyHeaders.ForwardedPort] = PortText(context.Connection.LocalPort);
            }
        }
        else if (detectors is not null)
        {
            // Envoy's original_ip_detection_extensions: the first that finds an address decides; one may refuse the request.
            allowTrustedAddressChecks = false;
            foreach (var detector in detectors)
            {
                var detection = detector.Detect(headers);
                if (detection.RejectStatus is { } reject)
                {
                    return new RequestOrigin(false, false, null) { RejectStatus = reject };
                }
                if (detection.Address is { } detected)
                {
                    clientAddress = detected;
                    allowTrustedAddressChecks = detection.AllowTrustedAddressChecks;
                    fromForwardedFor = true;
                    break;
                }
            }
        }
        else
        {
            clientAddress = LastAddressFromXff(headers[ForwardedFor], hops, out allowTrustedAddressChecks);
            fromForwardedFor = clientAddress is not null;
        }

        if (StringValues.IsNullOrEmpty(headers[EnvoyHeaders.ForwardedProto]))
        {
            headers[EnvoyHeaders.ForwardedProto] = request.IsHttps ? "https" : "http";
        }
        if (plan.AppendXForwardedPort && headers[EnvoyHeaders.ForwardedPort].Count == 0)
        {
            headers[EnvoyHeaders.ForwardedPort] = PortText(context.Connection.LocalPort);
        }
        if (plan.SchemeToOverwrite is { } scheme)
        {
            // scheme_header_transformation: what routes, logs and x-forwarded-proto see (the connection's TLS is unchanged).
            request.Scheme = scheme;
            headers[EnvoyHeaders.ForwardedProto] = scheme;
        }

        // Internal only when the trusted address is the only one (no XFF with use_remote_address, a single XFF entry
        // without) and it is in internal_address_config (Envoy 1.33 and later: no default ranges).
        var internalRequest = allowTrustedAddressChecks && clientAddress is not null && InternalRequest.IsInternal(clientAddress, internalRanges);
        clientAddress ??= remote;
        var edge = !internalRequest && plan.UseRemoteAddress;

        if (internalRequest)
        {
            headers[InternalRequest.InternalHeader] = "true";
        }
        else
        {
            // Removing by name: enumerating IHeaderDictionary would box its enumerator on every request.
            if (edge)
            {
                foreach (var name in EdgeOnlyHeaderNames)
                {
                    headers.Remove(name);
                }
            }
            foreach (var name in InternalOnlyHeaderNames)
            {
                headers.Remove(name);
            }
            // The route configuration's internal_only_headers (Envoy's cleanInternalHeaders).
            foreach (var name in plan.InternalOnlyHeaders)
            {
                headers.Remove(name);
            }
        }

        if (userAgentNode is not null)
        {
            // Envoy's config.userAgent(): the local cluster, after the internal-header cleanup removed a client's copy.
            headers[EnvoyHeaders.DownstreamServiceCluster] = userAgentNode.ServiceCluster;
            if (StringValues.IsNullOrEmpty(headers.UserAgent))
            {
                headers.UserAgent = userAgentNode.ServiceCluster;
            }
            if (userAgentNode.NodeId.Length != 0)
            {
                headers[EnvoyHeaders.DownstreamServiceNode] = userAgentNode.NodeId;
            }
        }
        ClientCertHeader.Mutate(context, headers, plan);
        if (plan.Via.Length != 0)
        {
            headers[Via] = AppendVia(headers[Via], plan.Via);
        }
        if (edge && clientAddress is not null)
        {
            // The first ingress point into the trusted network records who it trusted the request came from.
            headers[ExternalAddress] = clientAddress.ToString();
        }
        if (plan.GenerateRequestId && ((edge && !plan.PreserveExternalRequestId) || headers[EnvoyHeaders.RequestId].Count == 0))
        {
            headers[EnvoyHeaders.RequestId] = UuidRequestId.Generate();
        }
        return new RequestOrigin(internalRequest, edge, clientAddress, fromForwardedFor);
    }

    /// <summary>
    /// Envoy's mutateTracingRequestHeader, for a connection manager with <c>tracing</c> (the <paramref name="sampling"/>
    /// of the HCM, or of the route's <c>tracing</c> when it has one). A request id that already carries a reason keeps it
    /// (the decision of an earlier hop); otherwise <c>x-client-trace-id</c> with <c>client_sampling</c> (a random draw),
    /// then <c>x-envoy-force-trace</c> (left only on internal requests), then <c>random_sampling</c> on the id's stable
    /// value decide; <c>overall_sampling</c>, on the same value, may cancel any of them. With <c>pack_trace_reason</c>
    /// the reason is written into the id. A request without a parsable id is not traced; with
    /// <c>use_request_id_for_trace_sampling: false</c> every request is (the tracer's own sampling then decides).
    /// </summary>
    public static TraceReason MutateTracingRequestHeader(IHeaderDictionary headers, ConnectionManagerPlan plan, in TracingSampling sampling, Random random)
    {
        if (!plan.UseRequestIdForTraceSampling)
        {
            return TraceReason.Sampling;
        }
        var values = headers[EnvoyHeaders.RequestId];
        if (values.Count == 0)
        {
            return TraceReason.NotTraceable;
        }
        // Repeated headers reach Envoy's header map as one comma-joined value.
        var original = values.Count == 1 ? values[0] ?? string.Empty : values.ToString();
        if (!UuidRequestId.TryGetInteger(original, out var integer))
        {
            return TraceReason.NotTraceable;
        }
        var result = integer % 10_000;
        var requestId = original;
        var reason = UuidRequestId.GetTraceReason(requestId);
        if (reason == TraceReason.NotTraceable)
        {
            if (headers.ContainsKey(ClientTraceId) && sampling.Client.Evaluate(random))
            {
                reason = TraceReason.ClientForced;
            }
            else if (headers.ContainsKey(ForceTrace))
            {
                reason = TraceReason.ServiceForced;
            }
            else if (sampling.Random.Evaluate(result))
            {
                reason = TraceReason.Sampling;
            }
            if (reason != TraceReason.NotTraceable && plan.PackTraceReason)
            {
                requestId = UuidRequestId.WithTraceReason(requestId, reason);
            }
        }
        if (reason != TraceReason.NotTraceable && !sampling.Overall.Evaluate(result))
        {
            reason = TraceReason.NotTraceable;
            if (plan.PackTraceReason)
            {
                requestId = UuidRequestId.WithTraceReason(requestId, reason);
            }
        }
        if (!ReferenceEquals(requestId, original))
        {
            headers[EnvoyHeaders.RequestId] = requestId;
        }
        return reason;
    }

    /// <summary>
    /// Envoy's TracerUtility::shouldTraceRequest: a health check is never traced; otherwise the reason says
    /// (sampled, forced by the service or asked for by the client).
    /// </summary>
    public static TracingDecision ShouldTraceRequest(TraceReason reason, bool healthCheck)
        => healthCheck ? new TracingDecision(TraceReason.HealthCheck, false)
            : new TracingDecision(reason, reason is TraceReason.Sampling or TraceReason.ServiceForced or TraceReason.ClientForced);

    /// <summary>
    /// Envoy's mutateResponseHeaders for the request id and <c>via</c>, on every response (proxied or local):
    /// <c>x-request-id</c> is copied from the request with <c>always_set_request_id_in_response</c> or when the request
    /// carries <c>x-envoy-force-trace</c> (only internal ones still do); <c>via</c> is appended.
    /// </summary>
    public static void MutateResponseHeaders(HttpContext context, ConnectionManagerPlan plan)
    {
        var requestHeaders = context.Request.Headers;
        var responseHeaders = context.Response.Headers;
        if (plan.AlwaysSetRequestIdInResponse || requestHeaders.ContainsKey(ForceTrace))
        {
            var requestId = requestHeaders[EnvoyHeaders.RequestId];
            if (requestId.Count != 0)
            {
                responseHeaders[EnvoyHeaders.RequestId] = requestId;
            }
        }
        if (plan.Via.Length != 0)
        {
            responseHeaders[Via] = AppendVia(responseHeaders[Via], plan.Via);
        }
    }

    /// <summary>
    /// Envoy's Utility::getLastAddressFromXFF: skipping the last <paramref name="skip"/> entries, the entry before them
    /// (trimmed) when it is an IP address. <paramref name="singleAddress"/> is true when that entry was the whole header
    /// and nothing was skipped (Envoy's allow_trusted_address_checks).
    /// </summary>
    internal static IPAddress? LastAddressFromXff(StringValues forwardedFor, uint skip, out bool singleAddress)
    {
        singleAddress = false;
        if (forwardedFor.Count == 0)
        {
            return null;
        }
        // Repeated headers reach Envoy's header map as one comma-joined value.
        var text = (forwardedFor.Count == 1 ? forwardedFor[0] ?? string.Empty : string.Join(',', forwardedFor.ToArray())).AsSpan();
        for (var i = 0u; i < skip; i++)
        {
            var comma = text.LastIndexOf(',');
            if (comma < 0)
            {
                return null;
            }
            text = text[..comma];
        }
        var last = text.LastIndexOf(',');
        if (last >= 0 && last + 1 < text.Length)
        {
            text = text[(last + 1)..];
        }
        text = text.Trim(" \t");
        var address = ParseInternetAddress(text);
        if (address is null)
        {
            return null;
        }
        singleAddress = last < 0 && skip == 0;
        return address;
    }

    /// <summary>
    /// Envoy's parseInternetAddressNoThrow (inet_pton): a dotted-quad IPv4 address, or an IPv6 address without brackets
    /// or port; .NET's parser alone would also take <c>10.1</c>, <c>0x0a.0.0.1</c> or <c>[::1]:80</c>.
    /// </summary>
    internal static IPAddress? ParseInternetAddress(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return null;
        }
        if (text.Contains(':'))
        {
            if (text.IndexOfAny('[', ']', '/') >= 0 || !IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return null;
            }
            return v6;
        }
        var dots = 0;
        var digits = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0)
                {
                    return null;
                }
                dots++;
                digits = 0;
            }
            else if (c is >= '0' and <= '9' && digits < 3)
            {
                digits++;
            }
            else
            {
                return null;
            }
        }
        return dots == 3 && digits != 0 && IPAddress.TryParse(text, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork ? v4 : null;
    }

    /// <summary>Envoy's appendXff: the address after the existing entries, comma-separated without a space.</summary>
    private static PortString? s_lastPort;

    /// <summary>The listener port's text, remembered (a listener's port does not change, so the common case allocates nothing).</summary>
    private static string PortText(int port)
    {
        var last = s_lastPort;
        if (last is null || last.Port != port)
        {
            last = new PortString(port, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            s_lastPort = last;
        }
        return last.Text;
    }

    private sealed record PortString(int Port, string Text);

    private static string AppendXff(StringValues existing, string address)
        => existing.Count switch
        {
            0 => address,
            1 when string.IsNullOrEmpty(existing[0]) => address,
            1 => existing[0] + "," + address,
            _ => string.Join(',', existing.ToArray()) + "," + address,
        };

    /// <summary>Envoy's appendVia: the value after the existing ones, separated by <c>", "</c>.</summary>
    private static string AppendVia(StringValues existing, string via)
        => existing.Count switch
        {
            0 => via,
            1 when string.IsNullOrEmpty(existing[0]) => via,
            1 => existing[0] + ", " + via,
            _ => string.Join(", ", existing.ToArray()) + ", " + via,
        };

    /// <summary>An IPv4 client on a dual-stack socket as IPv4, as Envoy presents it (represent_ipv4_remote_address_as_ipv4_mapped_ipv6 false).</summary>
    private static IPAddress? Unmapped(IPAddress? address)
        => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    private static string FindLocalAddress()
    {
        try
        {
            foreach (var network in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in network.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    if (address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address))
                    {
                        return address.ToString();
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list (a restricted sandbox): Envoy's fallback below.
        }
        return IPAddress.Loopback.ToString();
    }
}

using System.Net.Security;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;
using Gateway.Tls;

namespace Gateway.Translation;

/// <summary>
/// One upstream TLS context (<c>transport_socket</c> with an <c>UpstreamTlsContext</c>): the client certificate and CAs as
/// read when the configuration was applied, and what each connection's <see cref="SslClientAuthenticationOptions"/> is
/// made of. Envoy's client defaults: TLS 1.2 to 1.3, no verification without a <c>validation_context</c>.
/// </summary>
internal sealed record UpstreamTlsPlan(
    TlsCertificatePlan? ClientCertificate,
    CertificateValidationPlan Validation,
    SslProtocols Protocols,
    IReadOnlyList<TlsCipherSuite> CipherSuites,
    IReadOnlyList<string> AlpnProtocols,
    string? Sni,
    bool AllowTlsResume)
{
    /// <summary>Translates a validated transport socket; null for plain text (no socket, or <c>raw_buffer</c>).</summary>
    public static UpstreamTlsPlan? Translate(TransportSocket? socket, Tls.TlsSecrets secrets)
    {
        if (socket?.TypedConfig is not UpstreamTlsContext tls)
        {
            return null;
        }
        var common = tls.CommonTlsContext;
        return new UpstreamTlsPlan(
            common is not null && secrets.CertificateSourcesOf(common) is [var certificate] ? TlsCertificatePlan.Translate(certificate.Certificate, certificate.Reference, secrets) : null,
            CertificateValidationPlan.Translate(common, secrets),
            TlsParametersTranslation.Protocols(common?.TlsParams),
            TlsParametersTranslation.CipherSuites(common?.TlsParams),
            common?.AlpnProtocols ?? [],
            string.IsNullOrEmpty(tls.Sni) ? null : tls.Sni,
            // max_session_keys 0 disables resumption; any other value lets .NET resume (it caches a session per target host).
            (tls.MaxSessionKeys ?? 1) != 0);
    }
}

/// <summary>
/// A cluster's transport sockets: [0] is the cluster's <c>transport_socket</c> (Envoy's "default" match), then one per
/// <c>transport_socket_matches</c> entry in order; a null entry is plain text. Each endpoint records the index it
/// resolved to when the configuration was applied, so a connection never matches metadata.
/// </summary>
internal sealed record UpstreamTransportPlan(IReadOnlyList<UpstreamTlsPlan?> Sockets, bool AutoSni, bool AutoSanValidation)
{
    /// <summary>
    /// Whether a connection's TLS depends on the request that opens it (<c>auto_sni</c> or <c>auto_san_validation</c> with a
    /// TLS socket): its connections are then pooled per request host (<c>Clusters.HostConnectionPools</c>).
    /// </summary>
    public bool FollowsRequestHost
    {
        get
        {
            if (AutoSni || AutoSanValidation)
            {
                foreach (var socket in Sockets)
                {
                    if (socket is not null)
                    {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /// <summary>Envoy's metadata namespace of transport socket matching.</summary>
    public const string MatchNamespace = "envoy.transport_socket_match";

    /// <summary>The transport plan of a cluster; null when every endpoint is plain text (no socket, no match).</summary>
    public static UpstreamTransportPlan? Translate(Cluster cluster, Tls.TlsSecrets secrets)
    {
        if (cluster.TransportSocket is null && cluster.TransportSocketMatches.Count == 0)
        {
            return null;
        }
        var sockets = new List<UpstreamTlsPlan?> { UpstreamTlsPlan.Translate(cluster.TransportSocket, secrets) };
        foreach (var match in cluster.TransportSocketMatches)
        {
            sockets.Add(UpstreamTlsPlan.Translate(match.TransportSocket, secrets));
        }
        // HttpProtocolOptions' upstream_http_protocol_options, else the cluster's deprecated field.
        var options = (cluster.TypedExtensionProtocolOptions.GetValueOrDefault(HttpProtocolOptions.ExtensionName) as HttpProtocolOptions)?.UpstreamHttpProtocolOptions
            ?? cluster.UpstreamHttpProtocolOptions;
        return new UpstreamTransportPlan(sockets, options?.AutoSni ?? false, options?.AutoSanValidation ?? false);
    }

    /// <summary>
    /// Envoy's TransportSocketMatcherImpl::resolve: the first match whose every key/value the endpoint's
    /// <c>envoy.transport_socket_match</c> metadata has, else the first matching the locality's, else the default (0).
    /// </summary>
    public static int Resolve(IReadOnlyList<TransportSocketMatch> matches, EnvoyMetadata? endpoint, EnvoyMetadata? locality)
    {
        foreach (var metadata in (ReadOnlySpan<EnvoyMetadata?>)[endpoint, locality])
        {
            if (metadata is null)
            {
                continue;
            }
            for (var i = 0; i < matches.Count; i++)
            {
                if (LabelsMatch(matches[i].Match, metadata))
                {
                    return i + 1;
                }
            }
        }
        return 0;
    }

    /// <summary>The socket a health check with <c>transport_socket_match_criteria</c> uses: the criteria are matched as an endpoint's metadata would be.</summary>
    public static int ResolveCriteria(IReadOnlyList<TransportSocketMatch> matches, JsonObject criteria)
        => Resolve(matches, EnvoyMetadata.Create([new KeyValuePair<string, JsonObject>(MatchNamespace, criteria)]), null);

    /// <summary>Envoy's Metadata::metadataLabelMatch: every label present with an equal value (an empty label set matches).</summary>
    private static bool LabelsMatch(JsonObject? labels, EnvoyMetadata metadata)
    {
        if (labels is null || labels.Count == 0)
        {
            return true;
        }
        if (!metadata.TryGetNamespace(MatchNamespace, out var values))
        {
            return false;
        }
        foreach (var (key, wanted) in labels)
        {
            if (!values.TryGetProperty(key, out var value))
            {
                return false;
            }
            using var document = JsonDocument.Parse(wanted?.ToJsonString() ?? "null");
            if (!SubsetValue.Matches(value, SubsetValue.Canonical(document.RootElement), listAsAny: false))
            {
                return false;
            }
        }
        return true;
    }
}

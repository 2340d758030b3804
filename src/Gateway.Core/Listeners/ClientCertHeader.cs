using Gateway.Configuration;
using Gateway.Tls;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's mutateXfccRequestHeader (source/common/http/conn_manager_utility.cc): <c>x-forwarded-client-cert</c> per
/// <c>forward_client_cert_details</c>. Only a TLS connection whose client presented a certificate keeps or gets one
/// (but with <c>ALWAYS_FORWARD_ONLY</c>); this hop's element is built once per connection (DownstreamTlsInfo).
/// </summary>
internal static class ClientCertHeader
{
    /// <summary><c>x-forwarded-client-cert</c>.</summary>
    public const string Name = "x-forwarded-client-cert";

    public static void Mutate(HttpContext context, IHeaderDictionary headers, ConnectionManagerPlan plan)
    {
        var mode = plan.ForwardClientCert;
        if (mode == ForwardClientCertDetails.AlwaysForwardOnly)
        {
            return;
        }
        if (mode == ForwardClientCertDetails.Sanitize || context.Features.Get<DownstreamTlsInfo>() is not { Peer: not null } tls)
        {
            headers.Remove(Name);
            return;
        }
        if (mode == ForwardClientCertDetails.ForwardOnly)
        {
            return;
        }
        var element = tls.ClientCertElement(plan.ClientCertDetails);
        if (mode == ForwardClientCertDetails.SanitizeSet)
        {
            headers[Name] = element;
            return;
        }
        // APPEND_FORWARD: after what came, with ',' (repeated header lines count as one comma-joined value, as in Envoy).
        var existing = headers[Name];
        headers[Name] = StringValues.IsNullOrEmpty(existing) ? element : string.Concat(existing.Count == 1 ? existing[0] : existing.ToString(), ",", element);
    }
}

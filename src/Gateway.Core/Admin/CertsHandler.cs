using Gateway.Configuration;
using Gateway.Tls;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Admin;

/// <summary>
/// <c>/certs</c> (server_info_handler.cc handlerCerts): every TLS context's CA certificate and certificate chain as
/// <c>envoy.admin.v3.Certificates</c>, clusters' contexts first and then listeners', as Envoy creates them. The same
/// contexts give <c>server.days_until_first_cert_expiring</c>.
/// </summary>
internal sealed class CertsHandler(IServiceProvider services, TimeProvider time)
{
    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/certs", "print certs on machine", false, _ => AdminResponse.Json(Certificates().ToPrettyString())),
    ];

    /// <summary>The loaded contexts (none before the gateway's runtime exists).</summary>
    public static List<TlsContextCertificates> Contexts(Hosting.GatewayRuntime? runtime)
    {
        var contexts = new List<TlsContextCertificates>();
        if (runtime is null)
        {
            return contexts;
        }
        foreach (var cluster in runtime.Clusters.All)
        {
            foreach (var tls in cluster.TlsContexts)
            {
                contexts.Add(tls.LoadedCertificates());
            }
        }
        foreach (var listener in runtime.Plan.Listeners)
        {
            // A listener LDS is removing may have left its slot already.
            if (!runtime.TryGetSlot(listener.Name, out var slot) || slot.Current is not { } chains)
            {
                continue;
            }
            foreach (var chain in chains.All())
            {
                if (chain.Tls is { } tls)
                {
                    contexts.Add(tls.LoadedCertificates());
                }
            }
        }
        return contexts;
    }

    /// <summary>Envoy's ContextManagerImpl::daysUntilFirstCertExpires: the fewest days over every context (uint32 max without any).</summary>
    public static long DaysUntilFirstCertExpiring(IReadOnlyList<TlsContextCertificates> contexts, DateTimeOffset now)
    {
        long days = uint.MaxValue;
        foreach (var context in contexts)
        {
            days = Math.Min(days, context.DaysUntilFirstExpiring(now));
        }
        return days;
    }

    private ProtoObject Certificates()
    {
        var now = time.GetUtcNow();
        var list = new ProtoList();
        foreach (var context in Contexts(services.GetService<Hosting.GatewayRuntime>()))
        {
            var ca = new ProtoList();
            if (context.CaCert is { } caCert)
            {
                ca.Add(Details(caCert, now));
            }
            var chain = new ProtoList();
            foreach (var certificate in context.CertChain)
            {
                chain.Add(Details(certificate, now));
            }
            list.Add(new ProtoObject().Add("ca_cert", ca).Add("cert_chain", chain));
        }
        return new ProtoObject().Add("certificates", list);
    }

    /// <summary><c>envoy.admin.v3.CertificateDetails</c> (Utility::certificateDetails), every primitive printed.</summary>
    private static ProtoObject Details(LoadedCertificate certificate, DateTimeOffset now)
    {
        var names = new ProtoList();
        foreach (var (type, value) in SubjectAltNames.All(certificate.Certificate))
        {
            // SubjectAlternateName has dns, uri and ip_address: Envoy lists no other kind.
            var field = type switch
            {
                SanType.DNS => "dns",
                SanType.URI => "uri",
                SanType.IP_ADDRESS => "ip_address",
                _ => null,
            };
            if (field is not null)
            {
                names.Add(new ProtoObject().Add(field, ProtoJson.String(value)));
            }
        }
        return new ProtoObject()
            .Add("path", ProtoJson.String(certificate.Path))
            .Add("serial_number", ProtoJson.String(certificate.SerialNumber))
            .Add("subject_alt_names", names)
            .Add("days_until_expiration", ProtoJson.UInt64((ulong)certificate.DaysUntilExpiration(now)))
            .Add("valid_from", ProtoJson.Timestamp(new DateTimeOffset(certificate.Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero)))
            .Add("expiration_time", ProtoJson.Timestamp(new DateTimeOffset(certificate.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero)));
    }
}

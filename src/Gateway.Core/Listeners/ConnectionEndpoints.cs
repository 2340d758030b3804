using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// A downstream connection's addresses as the formatter reads them (<c>%DOWNSTREAM_*_ADDRESS%</c>) for a listener's
/// connection entry, which has no HttpContext to take them from.
/// </summary>
internal sealed class ConnectionEndpoints : ConnectionInfo
{
    /// <summary>The addresses of Kestrel's connection (IP endpoints; anything else leaves them unset).</summary>
    public ConnectionEndpoints(string id, EndPoint? local, EndPoint? remote)
    {
        Id = id;
        if (local is IPEndPoint l)
        {
            LocalIpAddress = l.Address;
            LocalPort = l.Port;
        }
        if (remote is IPEndPoint r)
        {
            RemoteIpAddress = r.Address;
            RemotePort = r.Port;
        }
    }

    public override string Id { get; set; }

    public override IPAddress? RemoteIpAddress { get; set; }

    public override int RemotePort { get; set; }

    public override IPAddress? LocalIpAddress { get; set; }

    public override int LocalPort { get; set; }

    // Listeners are plain text: there is never a client certificate.
    public override X509Certificate2? ClientCertificate { get; set; }

    public override Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken = default) => Task.FromResult<X509Certificate2?>(null);
}

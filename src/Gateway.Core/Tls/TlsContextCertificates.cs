using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>A certificate a TLS context loaded, with where it was read from (a path or <c>&lt;inline&gt;</c>).</summary>
internal sealed record LoadedCertificate(X509Certificate2 Certificate, string Path)
{
    /// <summary>
    /// Envoy's serial number text (Utility::getSerialNumberFromCertificate): the integer's bytes in lower-case hex
    /// without leading zero bytes (BN_bn2hex), <c>0</c> for zero.
    /// </summary>
    public string SerialNumber
    {
        get
        {
            var hex = Certificate.SerialNumber;
            var start = 0;
            while (start + 2 < hex.Length && hex[start] == '0' && hex[start + 1] == '0')
            {
                start += 2;
            }
            var serial = hex[start..].ToLowerInvariant();
            return serial is "00" ? "0" : serial;
        }
    }

    /// <summary>
    /// Whole days until the certificate expires, 0 once it has (Envoy's Utility::getDaysUntilExpiration, from
    /// ASN1_TIME_diff: the days part of the difference).
    /// </summary>
    public long DaysUntilExpiration(DateTimeOffset now)
    {
        var left = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero) - now;
        return left <= TimeSpan.Zero ? 0 : (long)Math.Floor(left.TotalDays);
    }
}

/// <summary>
/// What one TLS context shows in <c>/certs</c> and counts for <c>server.days_until_first_cert_expiring</c>: Envoy's
/// CA certificate of the validation context (the first of the bundle) and the leaf of each configured certificate.
/// </summary>
internal sealed record TlsContextCertificates(LoadedCertificate? CaCert, IReadOnlyList<LoadedCertificate> CertChain)
{
    public static TlsContextCertificates From(X509Certificate2Collection? trustedCa, string? trustedCaPath, IReadOnlyList<ServerCertificate> certificates)
    {
        var chain = new LoadedCertificate[certificates.Count];
        for (var i = 0; i < chain.Length; i++)
        {
            chain[i] = new LoadedCertificate(certificates[i].Leaf, certificates[i].Path);
        }
        var ca = trustedCa is { Count: > 0 } ? new LoadedCertificate(trustedCa[0], trustedCaPath ?? "<inline>") : null;
        return new TlsContextCertificates(ca, chain);
    }

    /// <summary>
    /// Envoy's ContextImpl::daysUntilFirstCertExpires: the fewest days left of the CA and the certificates; a context
    /// without any counts as <see cref="uint.MaxValue"/>.
    /// </summary>
    public long DaysUntilFirstExpiring(DateTimeOffset now)
    {
        long days = CaCert?.DaysUntilExpiration(now) ?? uint.MaxValue;
        foreach (var certificate in CertChain)
        {
            days = Math.Min(days, certificate.DaysUntilExpiration(now));
        }
        return days;
    }
}

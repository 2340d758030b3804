using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// What Envoy's Ssl::ConnectionInfo tells about one certificate (a connection's peer or local one), in Envoy's text forms:
/// SANs by type, the RFC 2253 subject and issuer, digests, serial, validity and the URL-encoded PEM. Made once per
/// connection (peer) or per served certificate (local); the derived texts are computed on first use and kept.
/// </summary>
internal sealed class CertificateFacts
{
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2[] _chain;
    private string? _subject;
    private string? _issuer;
    private string? _sha256;
    private string? _sha1;
    private string? _serial;
    private string? _pem;
    private string? _chainPem;
    private string? _chainSha256;
    private string? _chainSha1;
    private string? _chainSerials;

    /// <summary>The facts of <paramref name="certificate"/>; <paramref name="chain"/> is the chain the peer sent, leaf first (or just the leaf).</summary>
    public CertificateFacts(X509Certificate2 certificate, X509Certificate2[]? chain = null)
    {
        _certificate = certificate;
        _chain = chain is { Length: > 0 } ? chain : [certificate];
        var uri = new List<string>();
        var dns = new List<string>();
        var ip = new List<string>();
        var email = new List<string>();
        foreach (var (type, value) in SubjectAltNames.All(certificate))
        {
            (type switch { SanType.URI => uri, SanType.DNS => dns, SanType.IP_ADDRESS => ip, _ => email }).Add(value);
        }
        UriSans = [.. uri];
        DnsSans = [.. dns];
        IpSans = [.. ip];
        EmailSans = [.. email];
    }

    public X509Certificate2 Certificate => _certificate;

    public string[] UriSans { get; }

    public string[] DnsSans { get; }

    public string[] IpSans { get; }

    public string[] EmailSans { get; }

    /// <summary>The subject as OpenSSL prints it with XN_FLAG_RFC2253 (<c>CN=client,O=Example</c>).</summary>
    public string Subject => _subject ??= DistinguishedNames.Rfc2253(_certificate.SubjectName);

    /// <summary>The issuer, RFC 2253.</summary>
    public string Issuer => _issuer ??= DistinguishedNames.Rfc2253(_certificate.IssuerName);

    /// <summary>Lower-case hex SHA-256 of the DER (Envoy's sha256PeerCertificateDigest, XFCC's Hash).</summary>
    public string Sha256 => _sha256 ??= Convert.ToHexStringLower(SHA256.HashData(_certificate.RawDataMemory.Span));

    /// <summary>Lower-case hex SHA-1 of the DER.</summary>
    public string Sha1 => _sha1 ??= Convert.ToHexStringLower(SHA1Digest(_certificate));

    /// <summary>The serial number in lower-case hex without leading zero bytes (BoringSSL's BN_bn2hex, lower-cased).</summary>
    public string Serial => _serial ??= SerialOf(_certificate);

    /// <summary>The PEM of the certificate, URL-encoded as Envoy's urlEncodedPemEncodedPeerCertificate.</summary>
    public string UrlEncodedPem => _pem ??= UrlEncode(_certificate.ExportCertificatePem() + "\n");

    /// <summary>Every certificate of the chain as URL-encoded PEM, concatenated.</summary>
    public string UrlEncodedPemChain => _chainPem ??= JoinChain(static c => UrlEncode(c.ExportCertificatePem() + "\n"), string.Empty);

    /// <summary>The chain's SHA-256 digests, comma-separated.</summary>
    public string ChainSha256 => _chainSha256 ??= JoinChain(static c => Convert.ToHexStringLower(SHA256.HashData(c.RawDataMemory.Span)), ",");

    /// <summary>The chain's SHA-1 digests, comma-separated.</summary>
    public string ChainSha1 => _chainSha1 ??= JoinChain(static c => Convert.ToHexStringLower(SHA1Digest(c)), ",");

    /// <summary>The chain's serial numbers, comma-separated.</summary>
    public string ChainSerials => _chainSerials ??= JoinChain(SerialOf, ",");

    public DateTimeOffset NotBefore => new(_certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    public DateTimeOffset NotAfter => new(_certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    private string JoinChain(Func<X509Certificate2, string> text, string separator)
    {
        var builder = new StringBuilder();
        foreach (var certificate in _chain)
        {
            if (builder.Length > 0)
            {
                builder.Append(separator);
            }
            builder.Append(text(certificate));
        }
        return builder.ToString();
    }

#pragma warning disable CA5350 // SHA-1 is what the operator prints (a fingerprint, not a security decision).
    private static byte[] SHA1Digest(X509Certificate2 certificate) => SHA1.HashData(certificate.RawDataMemory.Span);
#pragma warning restore CA5350

    private static string SerialOf(X509Certificate2 certificate)
    {
        var serial = certificate.SerialNumberBytes.Span;
        var start = 0;
        while (start < serial.Length - 1 && serial[start] == 0)
        {
            start++;
        }
        return Convert.ToHexStringLower(serial[start..]);
    }

    /// <summary>Envoy's urlEncodedPemEncodedPeerCertificate: the PEM with newline, space, <c>+</c>, <c>/</c> and <c>=</c> percent-encoded (and nothing else).</summary>
    internal static string UrlEncode(string pem)
    {
        var builder = new StringBuilder(pem.Length + (pem.Length / 16));
        foreach (var c in pem)
        {
            _ = c switch
            {
                '\n' => builder.Append("%0A"),
                ' ' => builder.Append("%20"),
                '+' => builder.Append("%2B"),
                '/' => builder.Append("%2F"),
                '=' => builder.Append("%3D"),
                _ => builder.Append(c),
            };
        }
        return builder.ToString();
    }
}

/// <summary>Distinguished names as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 prints them (what Envoy reports).</summary>
internal static class DistinguishedNames
{
    private static readonly Dictionary<string, string> ShortNames = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN", ["2.5.4.4"] = "SN", ["2.5.4.5"] = "serialNumber", ["2.5.4.6"] = "C", ["2.5.4.7"] = "L",
        ["2.5.4.8"] = "ST", ["2.5.4.9"] = "street", ["2.5.4.10"] = "O", ["2.5.4.11"] = "OU", ["2.5.4.12"] = "title",
        ["2.5.4.17"] = "postalCode", ["2.5.4.42"] = "GN", ["2.5.4.43"] = "initials", ["2.5.4.44"] = "generationQualifier",
        ["2.5.4.46"] = "dnQualifier", ["2.5.4.65"] = "pseudonym", ["2.5.4.97"] = "organizationIdentifier",
        ["0.9.2342.19200300.100.1.1"] = "UID", ["0.9.2342.19200300.100.1.25"] = "DC", ["1.2.840.113549.1.9.1"] = "emailAddress",
    };

    /// <summary>The name, most specific RDN first, <c>,</c> between RDNs and <c>+</c> within one, values escaped per RFC 2253.</summary>
    public static string Rfc2253(X500DistinguishedName name)
    {
        var builder = new StringBuilder();
        try
        {
            var rdns = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence();
            var sets = new List<AsnReader>();
            while (rdns.HasData)
            {
                sets.Add(rdns.ReadSetOf());
            }
            for (var i = sets.Count - 1; i >= 0; i--)
            {
                if (builder.Length > 0)
                {
                    builder.Append(',');
                }
                var first = true;
                while (sets[i].HasData)
                {
                    if (!first)
                    {
                        builder.Append('+');
                    }
                    first = false;
                    var attribute = sets[i].ReadSequence();
                    var oid = attribute.ReadObjectIdentifier();
                    builder.Append(ShortNames.TryGetValue(oid, out var shortName) ? shortName : oid).Append('=');
                    AppendValue(builder, attribute);
                }
            }
        }
        catch (AsnContentException)
        {
            return name.Name;
        }
        return builder.ToString();
    }

    private static void AppendValue(StringBuilder builder, AsnReader attribute)
    {
        var tag = attribute.PeekTag();
        string? text = null;
        if (tag.TagClass == TagClass.Universal)
        {
            var kind = (UniversalTagNumber)tag.TagValue;
            if (kind is UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
                or UniversalTagNumber.T61String or UniversalTagNumber.BMPString or UniversalTagNumber.UniversalString or UniversalTagNumber.VisibleString)
            {
                text = attribute.ReadCharacterString(kind);
            }
        }
        if (text is null)
        {
            // ASN1_STRFLGS_DUMP_UNKNOWN | DUMP_DER: '#' and the hex of the DER.
            builder.Append('#').Append(Convert.ToHexStringLower(attribute.ReadEncodedValue().Span));
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b >= 0x80 || b < 0x20 || b == 0x7f)
            {
                // ESC_MSB and ESC_CTRL: \XX.
                builder.Append('\\').Append(b.ToString("X2", CultureInfo.InvariantCulture));
                continue;
            }
            var c = (char)b;
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' || (i == 0 && c is '#' or ' ') || (i == bytes.Length - 1 && c == ' '))
            {
                builder.Append('\\');
            }
            builder.Append(c);
        }
    }
}

using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Tls;

/// <summary>One compiled <c>match_typed_subject_alt_names</c> entry (Envoy's SanMatcher for EMAIL, DNS, URI, IP_ADDRESS).</summary>
internal sealed class SanPredicate(SanType type, StringPredicate matcher, string? exactDns)
{
    public SanType Type { get; } = type;

    public static SanPredicate FromConfig(SubjectAltNameMatcher config)
        => new(config.SanType, StringPredicate.FromConfig(config.Matcher!), config.SanType == SanType.DNS ? config.Matcher!.Exact : null);

    /// <summary>
    /// True when <paramref name="value"/> (a SAN of this type) matches. A DNS SAN that is a wildcard (<c>*.example.com</c>)
    /// also matches an exact matcher naming one host under it, as Envoy's DnsNameMatcher does.
    /// </summary>
    public bool Matches(string value)
        => matcher.Matches(value) || (exactDns is not null && SubjectAltNames.DnsNameMatch(exactDns, value));
}

/// <summary>Reads a certificate's subjectAltName extension (RFC 5280 GeneralNames) and matches it.</summary>
internal static class SubjectAltNames
{
    private const string ExtensionOid = "2.5.29.17";

    /// <summary>True when one of the certificate's SANs matches one of <paramref name="matchers"/> ("any" semantics).</summary>
    public static bool MatchAny(X509Certificate2 certificate, SanPredicate[] matchers)
    {
        foreach (var (type, value) in All(certificate))
        {
            foreach (var matcher in matchers)
            {
                if (matcher.Type == type && matcher.Matches(value))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>The certificate's e-mail, DNS, URI and IP SANs in their order (other kinds skipped); none when the extension does not parse.</summary>
    public static List<(SanType Type, string Value)> All(X509Certificate2 certificate)
    {
        var all = new List<(SanType, string)>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != ExtensionOid)
            {
                continue;
            }
            try
            {
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    var (type, value) = tag.TagClass != TagClass.ContextSpecific ? (SanType.SAN_TYPE_UNSPECIFIED, null) : tag.TagValue switch
                    {
                        1 => (SanType.EMAIL, names.ReadCharacterString(UniversalTagNumber.IA5String, tag)),
                        2 => (SanType.DNS, names.ReadCharacterString(UniversalTagNumber.IA5String, tag)),
                        6 => (SanType.URI, names.ReadCharacterString(UniversalTagNumber.IA5String, tag)),
                        7 => (SanType.IP_ADDRESS, IpText(names.ReadOctetString(tag))),
                        _ => (SanType.SAN_TYPE_UNSPECIFIED, (string?)null),
                    };
                    if (value is null)
                    {
                        if (type == SanType.SAN_TYPE_UNSPECIFIED)
                        {
                            names.ReadEncodedValue();
                        }
                        continue;
                    }
                    all.Add((type, value));
                }
            }
            catch (AsnContentException)
            {
                all.Clear();
            }
        }
        return all;
    }

    /// <summary>Envoy's Utility::dnsNameMatch: equal ignoring case, or a <c>*.</c> wildcard SAN covering exactly one label.</summary>
    public static bool DnsNameMatch(string name, string pattern)
    {
        if (string.Equals(name, pattern, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (pattern.Length > 2 && pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            return dot > 0 && string.Equals(name[dot..], pattern[1..], StringComparison.OrdinalIgnoreCase);
        }
        return false;
    }

    private static string? IpText(byte[] bytes) => bytes.Length is 4 or 16 ? new IPAddress(bytes).ToString() : null;
}

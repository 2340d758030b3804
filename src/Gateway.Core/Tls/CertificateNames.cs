using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>
/// Chooses among a context's certificates by SNI (Envoy's ServerContextImpl server-names map): an exact DNS name first,
/// then a certificate wildcard (<c>*.example.com</c> covers one label, as RFC 6125). A certificate without DNS SANs is
/// known by its subject CN. Names are computed once when the context loads; a pick compares strings only.
/// </summary>
internal sealed class CertificateNames
{
    private readonly string[][] _names;

    public CertificateNames(IReadOnlyList<X509Certificate2> leaves)
    {
        _names = new string[leaves.Count][];
        for (var i = 0; i < leaves.Count; i++)
        {
            _names[i] = NamesOf(leaves[i]);
        }
    }

    /// <summary>The index of the certificate serving <paramref name="serverName"/>, or -1 when none names it (the caller serves the first).</summary>
    public int Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return -1;
        }

        for (var i = 0; i < _names.Length; i++)
        {
            foreach (var name in _names[i])
            {
                if (string.Equals(name, serverName, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
        }

        var dot = serverName.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return -1;
        }

        var parent = serverName.AsSpan(dot);
        for (var i = 0; i < _names.Length; i++)
        {
            foreach (var name in _names[i])
            {
                if (name.Length == parent.Length + 1 && name[0] == '*' && name.AsSpan(1).Equals(parent, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static string[] NamesOf(X509Certificate2 leaf)
    {
        var names = new List<string>();
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension sans)
            {
                foreach (var dns in sans.EnumerateDnsNames())
                {
                    names.Add(dns);
                }
            }
        }

        if (names.Count == 0)
        {
            var cn = leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            if (!string.IsNullOrEmpty(cn))
            {
                names.Add(cn);
            }
        }

        return [.. names];
    }
}

using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>
/// Chooses among a context's certificates as Envoy's ServerContextImpl::selectTlsContext does: the SNI's exact DNS name,
/// then its wildcard (<c>*.example.com</c> covers one label), and within a name an ECDSA certificate before an RSA one;
/// without a match a full scan (ECDSA first, else the first certificate). A certificate without a SAN extension is known
/// by its subject CN; of two certificates of one key type naming the same name the earlier wins. .NET does not show the
/// ClientHello's signature algorithms, so every client is taken as ECDSA capable (TLS 1.3 clients must be, RFC 8446
/// 9.1). Names are computed when the context loads and when a certificate rotates; a pick compares strings only.
/// </summary>
internal sealed class CertificateNames
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";

    // One entry per certificate, replaced whole when its certificate rotates (handshakes may read it meanwhile).
    private readonly Entry[] _entries;

    public CertificateNames(IReadOnlyList<X509Certificate2> leaves)
    {
        _entries = new Entry[leaves.Count];
        for (var i = 0; i < leaves.Count; i++)
        {
            _entries[i] = Entry.Of(leaves[i]);
        }
    }

    /// <summary>The full scan's choice (no SNI, or full_scan_certs_on_sni_mismatch): the first ECDSA certificate, else the first.</summary>
    public int ScanChoice
    {
        get
        {
            for (var i = 0; i < _entries.Length; i++)
            {
                if (_entries[i].Ecdsa)
                {
                    return i;
                }
            }
            return 0;
        }
    }

    /// <summary>
    /// Takes <paramref name="leaf"/> as certificate <paramref name="index"/>'s; its names are computed again only when it
    /// is another certificate than last time (a file-based secret rotated), so Envoy's rebuilt context is matched.
    /// </summary>
    public void Refresh(int index, X509Certificate2 leaf)
    {
        if (!ReferenceEquals(_entries[index].Leaf, leaf))
        {
            _entries[index] = Entry.Of(leaf);
        }
    }

    /// <summary>The index of the certificate naming <paramref name="serverName"/> (exact, then wildcard), or -1 when none does.</summary>
    public int Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return -1;
        }

        var exact = Find(serverName, wildcard: false);
        if (exact >= 0)
        {
            return exact;
        }

        // Envoy's wildcard key: the SNI from its first dot after the first character, when a label follows it.
        var dot = serverName.IndexOf('.', 1);
        return dot < 0 || dot >= serverName.Length - 1 ? -1 : Find(serverName, wildcard: true, dot);
    }

    private int Find(string serverName, bool wildcard, int dot = 0)
    {
        var candidate = -1;
        for (var i = 0; i < _entries.Length; i++)
        {
            var entry = _entries[i];
            if (!Names(entry.Names, serverName, wildcard, dot))
            {
                continue;
            }
            if (entry.Ecdsa)
            {
                return i;
            }
            if (candidate < 0)
            {
                candidate = i;
            }
        }
        return candidate;
    }

    private static bool Names(string[] names, string serverName, bool wildcard, int dot)
    {
        var parent = serverName.AsSpan(dot);
        foreach (var name in names)
        {
            if (wildcard
                ? name.Length == parent.Length + 1 && name[0] == '*' && name.AsSpan(1).Equals(parent, StringComparison.OrdinalIgnoreCase)
                : string.Equals(name, serverName, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string[] NamesOf(X509Certificate2 leaf)
    {
        var names = new List<string>();
        var hasSans = false;
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension sans)
            {
                hasSans = true;
                foreach (var dns in sans.EnumerateDnsNames())
                {
                    names.Add(dns);
                }
            }
        }

        // RFC 6125 6.4.4: the CN counts only when the certificate has no SANs at all.
        if (!hasSans)
        {
            var cn = leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            if (!string.IsNullOrEmpty(cn))
            {
                names.Add(cn);
            }
        }

        return [.. names];
    }

    private sealed record Entry(X509Certificate2 Leaf, string[] Names, bool Ecdsa)
    {
        public static Entry Of(X509Certificate2 leaf) => new(leaf, NamesOf(leaf), leaf.PublicKey.Oid.Value == EcPublicKeyOid);
    }
}

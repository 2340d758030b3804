using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>
/// <c>verify_certificate_hash</c> and <c>verify_certificate_spki</c> (Envoy's DefaultCertValidator): the peer's leaf
/// passes when its DER's SHA-256 is one of the hashes or its SubjectPublicKeyInfo's SHA-256 one of the SPKI pins.
/// </summary>
internal static class CertificatePins
{
    /// <summary>A hex SHA-256 digest, colons allowed (<c>DF:6F:…</c>); null when it is not 32 bytes of hex.</summary>
    public static byte[]? ParseHash(string text)
    {
        var hex = text.Replace(":", string.Empty, StringComparison.Ordinal);
        if (hex.Length != SHA256.HashSizeInBytes * 2)
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A base64 SHA-256 digest; null when it does not decode to 32 bytes.</summary>
    public static byte[]? ParseSpki(string text)
    {
        var bytes = new byte[SHA256.HashSizeInBytes + 3];
        return Convert.TryFromBase64String(text, bytes, out var written) && written == SHA256.HashSizeInBytes ? bytes[..written] : null;
    }

    /// <summary>Either list matches (an empty list matches nothing).</summary>
    public static bool Match(X509Certificate2 leaf, IReadOnlyList<byte[]> hashes, IReadOnlyList<byte[]> spkis)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        if (hashes.Count > 0)
        {
            SHA256.HashData(leaf.RawDataMemory.Span, digest);
            if (Contains(hashes, digest))
            {
                return true;
            }
        }
        if (spkis.Count > 0)
        {
            SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo(), digest);
            if (Contains(spkis, digest))
            {
                return true;
            }
        }
        return false;
    }

    private static bool Contains(IReadOnlyList<byte[]> pins, ReadOnlySpan<byte> digest)
    {
        foreach (var pin in pins)
        {
            if (digest.SequenceEqual(pin))
            {
                return true;
            }
        }
        return false;
    }
}

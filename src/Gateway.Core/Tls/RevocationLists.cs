using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Tls;

/// <summary>
/// <c>crl</c> (Envoy's DefaultCertValidator with X509_V_FLAG_CRL_CHECK, and CRL_CHECK_ALL unless
/// <c>only_verify_leaf_cert_crl</c>): every certificate of the verified chain but its root (or only the leaf) needs a CRL
/// from its issuer, signed by that issuer, that does not list its serial. .NET on Linux has no way to hand X509Chain an
/// offline CRL (it only fetches distribution points), so the CRLs are parsed here (RFC 5280 CertificateList). As
/// OpenSSL's check_crl_time, only a CRL current at the verification time counts (thisUpdate passed, nextUpdate not yet):
/// an outdated CRL is as good as none, which fails the chain.
/// </summary>
internal sealed class RevocationLists
{
    private readonly RevocationList[] _lists;
    private readonly bool _leafOnly;

    private RevocationLists(RevocationList[] lists, bool leafOnly)
    {
        _lists = lists;
        _leafOnly = leafOnly;
    }

    /// <summary>Parses every <c>X509 CRL</c> block of <paramref name="pem"/>; null (with Envoy's error) when there is none or one does not parse.</summary>
    public static RevocationLists? Load(byte[] pem, string path, bool leafOnly, out string? error)
    {
        var lists = new List<RevocationList>();
        var text = Encoding.ASCII.GetString(pem).AsSpan();
        try
        {
            while (PemEncoding.TryFind(text, out var fields))
            {
                if (text[fields.Label].SequenceEqual("X509 CRL"))
                {
                    lists.Add(RevocationList.Parse(Convert.FromBase64String(text[fields.Base64Data].ToString())));
                }
                text = text[fields.Location.End..];
            }
        }
        catch (Exception e) when (e is AsnContentException or FormatException or CryptographicException)
        {
            lists.Clear();
        }
        error = lists.Count == 0 ? $"Failed to load CRL from {path}" : null;
        return lists.Count == 0 ? null : new RevocationLists([.. lists], leafOnly);
    }

    /// <summary>True when no certificate of the verified <paramref name="chain"/> (leaf first) is revoked or lacks a current CRL.</summary>
    public bool Accepts(X509Chain chain)
    {
        var now = new DateTimeOffset(chain.ChainPolicy.VerificationTime.ToUniversalTime(), TimeSpan.Zero);
        var elements = chain.ChainElements;
        // The root (the last element) is trusted as configured, not checked.
        var checkedCount = _leafOnly ? Math.Min(1, elements.Count - 1) : elements.Count - 1;
        for (var i = 0; i < checkedCount; i++)
        {
            if (!Accepts(elements[i].Certificate, elements[i + 1].Certificate, now))
            {
                return false;
            }
        }
        return true;
    }

    private bool Accepts(X509Certificate2 certificate, X509Certificate2 issuer, DateTimeOffset now)
    {
        var found = false;
        foreach (var list in _lists)
        {
            if (!list.CurrentAt(now) || !list.IssuedBy(issuer))
            {
                continue;
            }
            found = true;
            if (list.Revokes(certificate.SerialNumberBytes.Span))
            {
                return false;
            }
        }
        // OpenSSL: "unable to get certificate CRL" (or "CRL has expired" / "CRL is not yet valid") fails the chain.
        return found;
    }

    /// <summary>One CertificateList: its issuer, the revoked serials, and the signed bytes to check against an issuer's key.</summary>
    private sealed class RevocationList
    {
        private readonly byte[] _issuer;
        private readonly byte[][] _revoked;
        private readonly byte[] _signed;
        private readonly string _signatureAlgorithm;
        private readonly byte[] _signature;

        private readonly DateTimeOffset _thisUpdate;
        private readonly DateTimeOffset? _nextUpdate;

        private RevocationList(byte[] issuer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, byte[][] revoked, byte[] signed, string algorithm, byte[] signature)
        {
            _thisUpdate = thisUpdate;
            _nextUpdate = nextUpdate;
            _issuer = issuer;
            _revoked = revoked;
            _signed = signed;
            _signatureAlgorithm = algorithm;
            _signature = signature;
        }

        public static RevocationList Parse(byte[] der)
        {
            var list = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            var signed = list.PeekEncodedValue().ToArray();
            var tbs = list.ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                tbs.ReadInteger();
            }
            tbs.ReadSequence();
            var issuer = tbs.ReadEncodedValue().ToArray();
            var thisUpdate = ReadTime(tbs);
            DateTimeOffset? nextUpdate = null;
            if (tbs.HasData && (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) || tbs.PeekTag().HasSameClassAndValue(Asn1Tag.GeneralizedTime)))
            {
                nextUpdate = ReadTime(tbs);
            }
            var revoked = new List<byte[]>();
            if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                var entries = tbs.ReadSequence();
                while (entries.HasData)
                {
                    var entry = entries.ReadSequence();
                    revoked.Add(Minimal(entry.ReadIntegerBytes().Span).ToArray());
                }
            }
            var algorithm = list.ReadSequence().ReadObjectIdentifier();
            var signature = list.ReadBitString(out _);
            return new RevocationList(issuer, thisUpdate, nextUpdate, [.. revoked], signed, algorithm, signature);
        }

        private static DateTimeOffset ReadTime(AsnReader reader)
            => reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

        /// <summary>OpenSSL's check_crl_time: issued by <paramref name="now"/> and, with a nextUpdate, not past it.</summary>
        public bool CurrentAt(DateTimeOffset now) => _thisUpdate <= now && (_nextUpdate is not { } next || now <= next);

        /// <summary>A serial without leading zero bytes (certificates and CRLs may encode it either way).</summary>
        private static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> serial)
        {
            var start = 0;
            while (start < serial.Length - 1 && serial[start] == 0)
            {
                start++;
            }
            return serial[start..];
        }

        public bool Revokes(ReadOnlySpan<byte> serial)
        {
            var minimal = Minimal(serial);
            foreach (var revoked in _revoked)
            {
                if (minimal.SequenceEqual(revoked))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>The CRL names <paramref name="issuer"/> and carries its signature.</summary>
        public bool IssuedBy(X509Certificate2 issuer)
            => issuer.SubjectName.RawData.AsSpan().SequenceEqual(_issuer) && SignatureVerifies(issuer);

        private bool SignatureVerifies(X509Certificate2 issuer)
        {
            var hash = _signatureAlgorithm switch
            {
                "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
                "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
                "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
                _ => default,
            };
            if (hash == default)
            {
                return false;
            }
            if (issuer.GetECDsaPublicKey() is { } ecdsa)
            {
                using (ecdsa)
                {
                    return _signatureAlgorithm.StartsWith("1.2.840.10045", StringComparison.Ordinal)
                        && ecdsa.VerifyData(_signed, _signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                }
            }
            if (issuer.GetRSAPublicKey() is { } rsa)
            {
                using (rsa)
                {
                    return _signatureAlgorithm.StartsWith("1.2.840.113549", StringComparison.Ordinal)
                        && rsa.VerifyData(_signed, _signature, hash, RSASignaturePadding.Pkcs1);
                }
            }
            return false;
        }
    }
}

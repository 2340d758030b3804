using System.Security.Cryptography;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// A file-based SDS subscription to a <c>tls_certificate</c> secret (Envoy's TlsCertificateSdsApi), owning the
/// <see cref="ServerCertificate"/> every context naming the secret serves: a changed certificate replaces it for new
/// handshakes. Its data files are the certificate chain and the private key.
/// </summary>
internal sealed class SdsCertificateWatcher : SdsSecretWatcher
{
    private byte[] _hash;
    private byte[] _chain;
    private byte[] _key;

    public SdsCertificateWatcher(SdsWatchPlan plan, TlsCertificatePlan initial, StatsStore store, TimeProvider time, ILogger logger)
        : base(plan, store, time, logger)
    {
        Certificate = ServerCertificate.Load(initial);
        _hash = Hash(initial.CertificateChain, initial.PrivateKey);
        _chain = initial.CertificateChain;
        _key = initial.PrivateKey;
        SetDataFiles(FileOf(initial.CertificateChainPath), FileOf(initial.PrivateKeyPath));
    }

    /// <summary>The certificate served for the secret: replaced in place by each good update.</summary>
    public ServerCertificate Certificate { get; }

    /// <summary>The secret as served: its name and files (inline material inline; the private key is redacted by the dump).</summary>
    public override Configuration.Secret Secret()
    {
        lock (Gate)
        {
            return new Configuration.Secret
            {
                Name = Plan.SecretName,
                TlsCertificate = new TlsCertificate { CertificateChain = ChainSource(), PrivateKey = KeySource() },
            };
        }
    }

    /// <summary>A configuration applied again read the file itself: its material wins if it differs (an event may have been missed).</summary>
    public void Adopt(TlsCertificatePlan plan, string? versionInfo)
    {
        lock (Gate)
        {
            var hash = Hash(plan.CertificateChain, plan.PrivateKey);
            VersionInfo = versionInfo;
            if (!hash.AsSpan().SequenceEqual(_hash))
            {
                Replace(new Material(ServerCertificate.Load(plan).Context, hash, plan.CertificateChain, plan.PrivateKey), plan.CertificateChainPath);
            }
        }
    }

    protected override bool TryAccept(Configuration.Secret secret, out string error)
    {
        if (secret.TlsCertificate is not { CertificateChain: { } chainSource, PrivateKey: { } keySource })
        {
            error = $"secret {Plan.SecretName} is not a tls_certificate with certificate_chain and private_key";
            return false;
        }
        if (!TryRead(chainSource, keySource, out var material, out error))
        {
            return false;
        }
        SetDataFiles(chainSource.Filename, keySource.Filename);
        // The same material again (another file of the directory moved) changes nothing: Envoy's hash check.
        if (material.Context is not null)
        {
            Replace(material, TlsMaterial.PathOf(chainSource));
        }
        return true;
    }

    protected override bool TryReloadFiles(out string path, out string error)
    {
        // The files of the secret as last accepted; inline material stays as it was.
        var chainSource = ChainSource();
        path = TlsMaterial.PathOf(chainSource);
        if (!TryRead(chainSource, KeySource(), out var material, out error))
        {
            return false;
        }
        if (material.Context is not null)
        {
            Replace(material, path);
        }
        return true;
    }

    private DataSource ChainSource() => DataFile(0) is { } file ? new DataSource { Filename = file } : Inline(_chain);

    private DataSource KeySource() => DataFile(1) is { } file ? new DataSource { Filename = file } : Inline(_key);

    /// <summary>
    /// Reads the material; a context is loaded only when it differs from what is served (else <see cref="Material.Context"/>
    /// is null). False, with Envoy's error, when it does not read or load.
    /// </summary>
    private bool TryRead(DataSource chainSource, DataSource keySource, out Material material, out string error)
    {
        material = default;
        var chain = TlsMaterial.Read(chainSource, out var readError);
        var key = chain is null ? null : TlsMaterial.Read(keySource, out readError);
        if (chain is null || key is null)
        {
            error = readError ?? "the certificate does not read";
            return false;
        }
        var hash = Hash(chain, key);
        if (hash.AsSpan().SequenceEqual(_hash))
        {
            error = string.Empty;
            return true;
        }
        var context = TlsMaterial.LoadServerCertificate(chain, TlsMaterial.PathOf(chainSource), key, TlsMaterial.PathOf(keySource), out readError);
        if (context is null)
        {
            error = readError ?? "the certificate does not load";
            return false;
        }
        material = new Material(context, hash, chain, key);
        error = string.Empty;
        return true;
    }

    private void Replace(Material material, string chainPath)
    {
        _hash = material.Hash;
        _chain = material.Chain;
        _key = material.Key;
        Certificate.Replace(material.Context!, chainPath);
        Updated(Plan.Path, "serving certificate serial " + Certificate.Leaf.SerialNumber);
    }

    private static string? FileOf(string path) => path == "<inline>" ? null : path;

    private static byte[] Hash(byte[] chain, byte[] key)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(chain);
        sha.AppendData(key);
        return sha.GetHashAndReset();
    }

    // New material: its loaded context and the hash it is known by.
    private readonly record struct Material(System.Net.Security.SslStreamCertificateContext? Context, byte[] Hash, byte[] Chain, byte[] Key);
}

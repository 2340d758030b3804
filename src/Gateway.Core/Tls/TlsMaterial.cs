using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// Reads and parses the PEM material of a TLS context (certificate chain, private key, trusted CAs) the way Envoy's
/// ContextImpl does when the configuration is applied, with Envoy's error messages. Used by validation (to report
/// every error) and by translation and the runtime (which only see material that passed).
/// </summary>
internal static class TlsMaterial
{
    /// <summary>Envoy's name for a source in messages: its path, or <c>&lt;inline&gt;</c>.</summary>
    public static string PathOf(DataSource source) => source.Filename ?? "<inline>";

    /// <summary>The source's bytes, or null with Envoy's DataSource error.</summary>
    public static byte[]? Read(DataSource source, out string? error)
    {
        error = null;
        var specifiers = (source.Filename is null ? 0 : 1) + (source.InlineBytes is null ? 0 : 1) + (source.InlineString is null ? 0 : 1) + (source.EnvironmentVariable is null ? 0 : 1);
        if (specifiers != 1)
        {
            error = "a data source needs exactly one of filename, inline_bytes, inline_string, environment_variable";
            return null;
        }
        if (source.Filename is { } file)
        {
            try
            {
                return File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error = $"Invalid path: {file}";
                return null;
            }
        }
        if (source.EnvironmentVariable is { } variable)
        {
            if (Environment.GetEnvironmentVariable(variable) is not { } value)
            {
                error = $"Environment variable doesn't exist: {variable}";
                return null;
            }
            return System.Text.Encoding.UTF8.GetBytes(value);
        }
        if (source.InlineBytes is { } bytes)
        {
            var buffer = new byte[bytes.Length];
            if (!Convert.TryFromBase64String(bytes, buffer, out var written))
            {
                error = "'inline_bytes' must be base64";
                return null;
            }
            return buffer[..written];
        }
        return System.Text.Encoding.UTF8.GetBytes(source.InlineString!);
    }

    /// <summary>Every certificate in a PEM text, in order; empty when there is none or one does not parse.</summary>
    public static X509Certificate2Collection ParseCertificates(byte[] pem)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
        }
        catch (CryptographicException)
        {
            certificates.Clear();
        }
        return certificates;
    }

    /// <summary>
    /// The served certificate: the chain's leaf with its private key, plus the intermediates sent after it; or null with
    /// Envoy's message (<c>Failed to load certificate chain from</c>, <c>Failed to load private key from</c>).
    /// </summary>
    public static SslStreamCertificateContext? LoadServerCertificate(byte[] chainPem, string chainPath, byte[] keyPem, string keyPath, out string? error)
    {
        error = null;
        var chain = ParseCertificates(chainPem);
        if (chain.Count == 0)
        {
            error = $"Failed to load certificate chain from {chainPath}";
            return null;
        }
        var keyText = System.Text.Encoding.ASCII.GetString(keyPem);
        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPem(chain[0].ExportCertificatePem(), keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // A key that parses but belongs to another certificate is OpenSSL's KEY_VALUES_MISMATCH.
            error = $"Failed to load private key from {keyPath}, Cause: {(ParsesAsKey(keyText) ? "KEY_VALUES_MISMATCH" : e.Message)}";
            return null;
        }
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    /// <summary>The trusted CAs, or null with Envoy's message.</summary>
    public static X509Certificate2Collection? LoadTrustedCa(byte[] pem, string path, out string? error)
    {
        var certificates = ParseCertificates(pem);
        error = certificates.Count == 0 ? $"Failed to load trusted CA certificates from {path}" : null;
        return certificates.Count == 0 ? null : certificates;
    }

    private static bool ParsesAsKey(string pem)
    {
        foreach (var algorithm in new Func<AsymmetricAlgorithm>[] { RSA.Create, ECDsa.Create })
        {
            using var key = algorithm();
            try
            {
                key.ImportFromPem(pem);
                return true;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                // Not this kind of key.
            }
        }
        return false;
    }
}

using System.Net.Security;

namespace Gateway.Tls;

/// <summary>
/// OpenSSL/BoringSSL cipher names (what Envoy's <c>cipher_suites</c> and <c>ssl.ciphers.&lt;name&gt;</c> use) for the
/// suites .NET's <see cref="CipherSuitesPolicy"/> can pin on Linux, and Envoy's default server list.
/// </summary>
internal static class TlsCipherNames
{
    private static readonly (string Name, TlsCipherSuite Suite)[] Known =
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        ("ECDHE-RSA-AES128-GCM-SHA256", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
        ("ECDHE-RSA-AES256-GCM-SHA384", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
        ("ECDHE-RSA-CHACHA20-POLY1305", TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        ("ECDHE-ECDSA-AES128-SHA", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA),
        ("ECDHE-RSA-AES128-SHA", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA),
        ("ECDHE-ECDSA-AES256-SHA", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA),
        ("ECDHE-RSA-AES256-SHA", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA),
        ("AES128-GCM-SHA256", TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256),
        ("AES256-GCM-SHA384", TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384),
        ("AES128-SHA", TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA),
        ("AES256-SHA", TlsCipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA),
        ("TLS_AES_128_GCM_SHA256", TlsCipherSuite.TLS_AES_128_GCM_SHA256),
        ("TLS_AES_256_GCM_SHA384", TlsCipherSuite.TLS_AES_256_GCM_SHA384),
        ("TLS_CHACHA20_POLY1305_SHA256", TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256),
    ];

    /// <summary>TLS 1.3's suites: BoringSSL does not let them be configured, so they are always offered.</summary>
    public static readonly TlsCipherSuite[] Tls13 =
        [TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256];

    /// <summary>
    /// Envoy's default server list (ServerContextConfigImpl::DEFAULT_CIPHER_SUITES) in order; its equal-preference groups
    /// (a BoringSSL feature) become the group's order.
    /// </summary>
    public static readonly string[] EnvoyServerDefault =
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    ];

    /// <summary>The suite of an OpenSSL name, or null when .NET cannot pin it.</summary>
    public static TlsCipherSuite? Find(string name)
    {
        foreach (var (known, suite) in Known)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return suite;
            }
        }
        return null;
    }

    /// <summary>The OpenSSL name of a negotiated suite (the stat name), or the IANA name when it is not in the table.</summary>
    public static string NameOf(TlsCipherSuite suite)
    {
        foreach (var (known, value) in Known)
        {
            if (value == suite)
            {
                return known;
            }
        }
        return suite.ToString();
    }
}

using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Tls;

/// <summary>
/// One upstream TLS context as it runs (Envoy's ClientContextImpl): the client certificate presented for mTLS, the
/// server certificate's verification (DefaultCertValidator with the SSL server purpose), the SNI, and the cluster's
/// <c>ssl.*</c> stats. The connection callback of the cluster's handler runs <see cref="HandshakeAsync"/> over the TCP
/// stream it opened, so TLS and plain-text endpoints share one handler and the choice is made per endpoint when the
/// configuration is applied.
/// </summary>
internal sealed class UpstreamTls
{
    /// <summary>
    /// BoringSSL's error queue entry for a failed verification as Envoy formats it (SslSocket::drainErrorQueue). Newer
    /// Envoys append the validator's detail (<c>verify cert failed: ...</c>) before <c>TLS_error_end</c>; this one does not.
    /// </summary>
    public const string VerifyFailedReason = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end";

    private readonly PeerValidation _validation;
    private readonly CipherSuitesPolicy? _cipherSuites;
    private readonly List<SslApplicationProtocol>? _http1Alpn;
    private readonly List<SslApplicationProtocol>? _http2Alpn;
    private readonly List<SslApplicationProtocol>? _autoAlpn;
    private readonly SslProtocols _protocols;
    private readonly bool _allowTlsResume;
    private readonly bool _autoSni;
    private readonly bool _autoSanValidation;

    public UpstreamTls(UpstreamTlsPlan plan, TlsStats stats, bool autoSni, bool autoSanValidation, SdsSubscriptions? secrets = null)
    {
        Stats = stats;
        Sni = plan.Sni;
        // A file-based secret's certificate is its subscription's, which rotation replaces in place.
        ClientCertificate = plan.ClientCertificate is not { } certificate ? null
            : certificate.Sds is { } sds && secrets is not null ? secrets.CertificateFor(sds) : ServerCertificate.Load(certificate);
        // A validation context from file-based SDS is swapped by its subscription: each handshake reads the current one.
        _validation = secrets?.ValidationFor(plan.Validation, CertificateValidator.ServerAuthentication)
            ?? PeerValidation.Fixed(plan.Validation, CertificateValidator.ServerAuthentication);
        _autoSni = autoSni;
        _autoSanValidation = autoSanValidation;
        _cipherSuites = OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(plan.CipherSuites);
        // ALPN offers only what the connection's codec speaks: a protocol it does not would be selected and then fail.
        _http1Alpn = Alpn(plan.AlpnProtocols, "http/1.1");
        // An HTTP/2 connection offers h2 when alpn_protocols is empty (Envoy's ALPN fallback for its HTTP/2 pools); auto_config
        // offers h2 and http/1.1 (or those of alpn_protocols).
        _http2Alpn = plan.AlpnProtocols.Count == 0 ? [SslApplicationProtocol.Http2] : Alpn(plan.AlpnProtocols, "h2");
        _autoAlpn = plan.AlpnProtocols.Count == 0 ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11] : AutoAlpn(plan.AlpnProtocols);
        _protocols = plan.Protocols;
        _allowTlsResume = plan.AllowTlsResume;
    }

    public TlsStats Stats { get; }

    /// <summary>What <c>/certs</c> shows of this context: the first trusted CA and the client certificate.</summary>
    public TlsContextCertificates LoadedCertificates()
    {
        var validator = _validation.Current;
        return TlsContextCertificates.From(validator.TrustedCa, validator.TrustedCaPath, ClientCertificate is { } client ? [client] : []);
    }

    /// <summary>The configured <c>sni</c>, or null.</summary>
    public string? Sni { get; }

    /// <summary>The client certificate presented (mTLS), or null (for <c>/certs</c>).</summary>
    public ServerCertificate? ClientCertificate { get; }

    /// <summary>Where <see cref="ClientCertificate"/>'s chain was read from (a path or <c>&lt;inline&gt;</c>).</summary>
    public string? ClientCertificatePath => ClientCertificate?.Path;

    /// <summary>The CAs the server certificate must chain to, or null (for <c>/certs</c>).</summary>
    public X509Certificate2Collection? TrustedCa => _validation.Current.TrustedCa;

    /// <summary>Where <see cref="TrustedCa"/> was read from (a path or <c>&lt;inline&gt;</c>).</summary>
    public string? TrustedCaPath => _validation.Current.TrustedCaPath;

    /// <summary>
    /// The SNI of a new connection: <c>sni</c>, or with <c>auto_sni</c> the host of the request that opened it. As Envoy's
    /// router, an empty or IP literal host sets no SNI of its own (the configured <c>sni</c>, if any, is sent).
    /// </summary>
    public string? ServerNameFor(HttpRequestMessage? request)
    {
        if (!_autoSni)
        {
            return Sni;
        }
        var host = RequestHost(request);
        return host.IsEmpty || IsIpLiteral(host) ? Sni : host.ToString();
    }

    /// <summary>With <c>auto_san_validation</c>, the request host the server certificate must name (a DNS SAN, or an IP SAN for an IP literal); else null.</summary>
    public string? SanNameFor(HttpRequestMessage? request)
        => _autoSanValidation && RequestHost(request) is { IsEmpty: false } host ? host.ToString() : null;

    /// <summary>
    /// The host of the request's <c>Host</c> (else its URI's authority) without the port, as written (Envoy's
    /// parseAuthority); empty without one. <c>Clusters.HostConnectionPools</c> pools connections by it.
    /// </summary>
    internal static ReadOnlySpan<char> RequestHost(HttpRequestMessage? request)
    {
        var authority = request is null ? null : request.Headers.Host ?? request.RequestUri?.Authority;
        if (string.IsNullOrEmpty(authority))
        {
            return default;
        }
        // The host of host[:port] (or [v6]:port).
        var colon = authority.LastIndexOf(':');
        if (colon > 0 && authority.IndexOf(']', StringComparison.Ordinal) < colon && (authority[0] == '[' || authority.IndexOf(':', StringComparison.Ordinal) == colon))
        {
            return authority.AsSpan(0, colon);
        }
        return authority;
    }

    private static bool IsIpLiteral(ReadOnlySpan<char> host)
        => host.Length > 2 && host[0] == '[' && host[^1] == ']' ? System.Net.IPAddress.TryParse(host[1..^1], out _) : System.Net.IPAddress.TryParse(host, out _);

    /// <summary>
    /// Runs the client handshake over <paramref name="transport"/> (which the returned stream owns). A failure disposes it
    /// and throws <see cref="UpstreamTlsException"/> with Envoy's transport failure reason, after charging
    /// <c>ssl.connection_error</c> or the <c>ssl.fail_verify_*</c> stat of the verification that refused the peer.
    /// </summary>
    public ValueTask<SslStream> HandshakeAsync(Stream transport, string? serverName, bool http2, CancellationToken cancellationToken, string? sanName = null)
        => HandshakeAsync(transport, serverName, http2 ? Clusters.UpstreamAlpn.Http2 : Clusters.UpstreamAlpn.Http1, cancellationToken, sanName);

    /// <summary>The handshake offering <paramref name="alpn"/>'s protocols.</summary>
    public async ValueTask<SslStream> HandshakeAsync(Stream transport, string? serverName, Clusters.UpstreamAlpn alpn, CancellationToken cancellationToken, string? sanName = null)
    {
        var verification = new Verification(this, sanName, _validation.Current);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        var options = Options(serverName, alpn, verification);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (!verification.FailureCounted)
            {
                Stats.ConnectionError.Increment();
            }
            throw new UpstreamTlsException(verification.FailureCounted ? VerifyFailedReason : FailureReason(e), e);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        Handshook(ssl);
        return ssl;
    }

    /// <summary>
    /// The handshake's options for a client that makes it itself (the xDS stream's <c>SocketsHttpHandler.SslOptions</c>:
    /// its requests must say <c>:scheme https</c>); a refused peer is counted as in <see cref="HandshakeAsync(Stream, string?, Clusters.UpstreamAlpn, CancellationToken, string?)"/>,
    /// a completed handshake by <see cref="Handshook"/>.
    /// </summary>
    public SslClientAuthenticationOptions ClientOptions(string? serverName, Clusters.UpstreamAlpn alpn)
        => Options(serverName, alpn, new Verification(this, null, _validation.Current));

    /// <summary>Counts a completed handshake: <c>ssl.handshake</c>, its version and cipher.</summary>
    public void Handshook(SslStream ssl)
    {
        Stats.Handshake.Increment();
        Stats.Version(ssl.SslProtocol).Increment();
        Stats.Cipher(ssl.NegotiatedCipherSuite).Increment();
    }

    private SslClientAuthenticationOptions Options(string? serverName, Clusters.UpstreamAlpn alpn, Verification verification) => new()
    {
        TargetHost = serverName ?? string.Empty,
        ClientCertificateContext = ClientCertificate?.Context,
        EnabledSslProtocols = _protocols,
        CipherSuitesPolicy = _cipherSuites,
        ApplicationProtocols = alpn switch
        {
            Clusters.UpstreamAlpn.Http2 => _http2Alpn,
            Clusters.UpstreamAlpn.Auto => _autoAlpn,
            _ => _http1Alpn,
        },
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        AllowTlsResume = _allowTlsResume,
        // Always set: .NET's own checks (name, chain against the system store) are not Envoy's.
        RemoteCertificateValidationCallback = verification.Validate,
    };

    /// <summary>
    /// The closest text to Envoy's <c>TLS_error:|&lt;code&gt;:&lt;lib&gt;:&lt;func&gt;:&lt;reason&gt;:TLS_error_end</c> from the
    /// innermost error .NET reports. OpenSSL's SSL errors (<c>error:0A00042E:SSL routines::tlsv1 alert protocol
    /// version</c>) are rewritten as BoringSSL prints the same reason (<c>268436526:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION</c>):
    /// both libraries number SSL reasons alike. Anything else (a closed transport) is .NET's message between the markers.
    /// </summary>
    internal static string FailureReason(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }
        var message = innermost.Message;
        if (message.StartsWith("error:", StringComparison.Ordinal))
        {
            message = message["error:".Length..];
        }
        const string SslLibrary = ":SSL routines::";
        var library = message.IndexOf(SslLibrary, StringComparison.Ordinal);
        if (library == 8 && uint.TryParse(message.AsSpan(0, 8), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var code))
        {
            // OpenSSL 3 packs the library above bit 23; BoringSSL's SSL library is 16, above bit 24.
            var boringCode = (16u << 24) | (code & 0x7FFFFF);
            var reason = message[(library + SslLibrary.Length)..].ToUpperInvariant().Replace(' ', '_');
            message = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{boringCode}:SSL routines:OPENSSL_internal:{reason}");
        }
        return "TLS_error:|" + message + ":TLS_error_end";
    }

    private static List<SslApplicationProtocol>? AutoAlpn(IReadOnlyList<string> configured)
    {
        List<SslApplicationProtocol>? offered = null;
        foreach (var protocol in configured)
        {
            if (protocol is "h2" or "http/1.1")
            {
                (offered ??= []).Add(new SslApplicationProtocol(protocol));
            }
        }
        return offered;
    }

    private static List<SslApplicationProtocol>? Alpn(IReadOnlyList<string> configured, string codec)
    {
        foreach (var protocol in configured)
        {
            if (protocol == codec)
            {
                return [new SslApplicationProtocol(codec)];
            }
        }
        return null;
    }

    /// <summary>Envoy's DefaultCertValidator::doVerifyCertChain for one server certificate; a failure is counted once.</summary>
    private bool Verify(Verification verification, X509Certificate? certificate, X509Chain? presented)
    {
        // Envoy verifies nothing without a validation context (trusted_ca or SAN matchers).
        var validator = verification.Validator;
        if (!validator.HasTrustedCa && !validator.HasSubjectAltNameMatchers && !_autoSanValidation)
        {
            return true;
        }
        if (certificate is null)
        {
            Stats.FailVerifyNoCert.Increment();
            verification.FailureCounted = true;
            return false;
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        bool verified;
        if (_autoSanValidation && verification.SanName is { Length: > 0 } name)
        {
            // The SNI replaces the configured SAN matchers (Envoy's verifySubjectAltNameListOverride): the chain alone is checked here.
            verified = validator.WithoutSubjectAltNames.Verify(leaf, presented, Stats);
            // Envoy's verifySubjectAltNameListOverride: an IP literal host is matched against IP SANs, any other against DNS SANs.
            var ip = IsIpLiteral(name);
            if (ip && name[0] == '[')
            {
                name = name[1..^1];
            }
            if (verified && !SubjectAltNames.MatchAny(leaf, [new SanPredicate(ip ? SanType.IP_ADDRESS : SanType.DNS, Routing.StringPredicate.FromConfig(new StringMatcher { Exact = name }), ip ? null : name)]))
            {
                Stats.FailVerifySan.Increment();
                verified = false;
            }
        }
        else
        {
            verified = validator.Verify(leaf, presented, Stats);
        }
        verification.FailureCounted = !verified;
        return verified;
    }

    /// <summary>
    /// One handshake's verification: the SAN <c>auto_san_validation</c> requires (null: the configured matchers), the
    /// validation read when it started, and whether a refusal was already counted.
    /// </summary>
    private sealed class Verification(UpstreamTls tls, string? sanName, CertificateValidator validator)
    {
        public string? SanName { get; } = sanName;

        public CertificateValidator Validator { get; } = validator;

        public bool FailureCounted { get; set; }

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
            => tls.Verify(this, certificate, chain);
    }
}

/// <summary>An upstream TLS handshake failed: a connect failure whose <see cref="FailureReason"/> is Envoy's transport failure reason.</summary>
internal sealed class UpstreamTlsException(string failureReason, Exception inner) : IOException(failureReason, inner)
{
    public string FailureReason { get; } = failureReason;
}

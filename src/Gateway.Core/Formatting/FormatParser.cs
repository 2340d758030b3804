using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Gateway.Listeners;

namespace Gateway.Formatting;

/// <summary>What a format may use beyond the built-in operators, and the sources of time and chance.</summary>
internal sealed class FormatterOptions
{
    /// <summary>The built-in operators only, with the system clock and random source.</summary>
    public static FormatterOptions Default { get; } = new();

    /// <summary>The clock of <c>%EMIT_TIME%</c>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The random source of <c>%UNIQUE_ID%</c> (must be safe for concurrent use when the formatter is shared).</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>The zone of the <c>_LOCAL</c> time operators.</summary>
    public TimeZoneInfo LocalZone { get; init; } = TimeZoneInfo.Local;

    /// <summary><c>%HOSTNAME%</c>; null reads the machine's host name.</summary>
    public string? HostName { get; init; }

    /// <summary><c>envoy.formatter.req_without_query</c> is configured: <c>%REQ_WITHOUT_QUERY(X?Y):Z%</c> is known.</summary>
    public bool ReqWithoutQuery { get; init; }

    /// <summary><c>envoy.formatter.metadata</c> is configured: <c>%METADATA(TYPE:NS:KEY):Z%</c> is known.</summary>
    public bool Metadata { get; init; }
}

/// <summary>
/// Envoy's SubstitutionFormatParser: splits a format into literals and <c>%COMMAND(SUBCOMMAND):LENGTH%</c> operators,
/// with Envoy's syntax rules and error messages. Errors are collected (every operator of a format is checked), not thrown.
/// </summary>
internal static partial class FormatParser
{
    [Flags]
    private enum Syntax
    {
        CommandOnly = 0,
        ParamsRequired = 1,
        ParamsOptional = 2,
        LengthAllowed = 4,
    }

    private delegate FormatOperator? Factory(string command, string sub, FormatterOptions options, List<string> errors);

    /// <summary>Envoy's commandWithArgsRegex, anchored where the parser stands.</summary>
    [GeneratedRegex(@"\G%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%", RegexOptions.CultureInvariant)]
    private static partial Regex CommandPattern();

    private static readonly Dictionary<string, (Syntax Syntax, Factory Create)> Commands = BuildCommands();

    /// <summary>Operators Envoy has that this gateway refuses, with why (the error names the operator and the reason).</summary>
    internal static readonly IReadOnlyDictionary<string, string> Refused = BuildRefused();

    /// <summary>The names of the built-in operators this gateway implements.</summary>
    internal static IEnumerable<string> Implemented => Commands.Keys;

    /// <summary>Parses <paramref name="format"/>; the operators, with errors added to <paramref name="errors"/> (then the result is not to be used).</summary>
    public static List<FormatOperator> Parse(string format, FormatterOptions options, List<string> errors)
    {
        var result = new List<FormatOperator>();
        var literal = new System.Text.StringBuilder();
        var pos = 0;
        while (pos < format.Length)
        {
            var c = format[pos];
            if (c != '%')
            {
                literal.Append(c);
                pos++;
                continue;
            }
            if (pos + 1 < format.Length && format[pos + 1] == '%')
            {
                literal.Append('%');
                pos += 2;
                continue;
            }
            if (literal.Length > 0)
            {
                result.Add(new LiteralOperator(literal.ToString()));
                literal.Clear();
            }
            var match = CommandPattern().Match(format, pos);
            int? maxLength = null;
            if (match.Success && match.Groups[3].Success)
            {
                if (int.TryParse(match.Groups[3].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                {
                    maxLength = length;
                }
                else
                {
                    match = Match.Empty;
                }
            }
            if (!match.Success)
            {
                errors.Add($"Incorrect configuration: {format}. Couldn't find valid command at position {pos}");
                return result;
            }
            var command = match.Groups[1].Value;
            var sub = match.Groups[2].Success ? match.Groups[2].Value : string.Empty;
            pos += match.Length;
            var created = Create(command, sub, maxLength, options, errors);
            if (created is not null)
            {
                result.Add(created);
            }
        }
        if (literal.Length > 0 || format.Length == 0)
        {
            result.Add(new LiteralOperator(literal.ToString()));
        }
        return result;
    }

    private static FormatOperator? Create(string command, string sub, int? maxLength, FormatterOptions options, List<string> errors)
    {
        (Syntax Syntax, Factory Create) entry;
        if (command == "REQ_WITHOUT_QUERY" && options.ReqWithoutQuery)
        {
            entry = (Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Header(HeaderSource.Request, s, e, withoutQuery: true));
        }
        else if (command == "METADATA" && options.Metadata)
        {
            entry = (Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => MetadataExtension(s, e));
        }
        else if (!Commands.TryGetValue(command, out entry))
        {
            errors.Add(Refused.TryGetValue(command, out var reason)
                ? $"{command} is not supported by this gateway: {reason}"
                : $"Not supported field in StreamInfo: {command}");
            return null;
        }
        // Envoy's CommandSyntaxChecker::verifySyntax.
        if (entry.Syntax == Syntax.CommandOnly && (sub.Length != 0 || maxLength is not null))
        {
            errors.Add($"{command} does not take any parameters or length");
            return null;
        }
        if ((entry.Syntax & Syntax.ParamsRequired) != 0 && sub.Length == 0)
        {
            errors.Add($"{command} requires parameters");
            return null;
        }
        if ((entry.Syntax & Syntax.LengthAllowed) == 0 && maxLength is not null)
        {
            errors.Add($"{command} does not allow length to be specified.");
            return null;
        }
        var created = entry.Create(command, sub, options, errors);
        return created is not null && maxLength is { } max ? new TruncatedOperator(created, max) : created;
    }

    private static Dictionary<string, (Syntax, Factory)> BuildCommands()
    {
        var table = new Dictionary<string, (Syntax, Factory)>(StringComparer.Ordinal);

        void Add(string name, Syntax syntax, Factory create) => table.Add(name, (syntax, create));
        void Simple(string name, FormatOperator op) => Add(name, Syntax.CommandOnly, (_, _, _, _) => op);

        // Headers (Envoy's http_specific_formatter).
        Add("REQ", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Header(HeaderSource.Request, s, e, withoutQuery: false));
        Add("RESP", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Header(HeaderSource.Response, s, e, withoutQuery: false));
        Add("TRAILER", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Header(HeaderSource.Trailer, s, e, withoutQuery: false));
        // The request headers as the stream info keeps them: the same headers here.
        Add("STREAM_INFO_REQ", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Header(HeaderSource.Request, s, e, withoutQuery: false));
        Simple("LOCAL_REPLY_BODY", new LocalReplyBodyOperator());
        Simple("ACCESS_LOG_TYPE", new AccessLogTypeOperator());
        Add("GRPC_STATUS", Syntax.ParamsOptional, static (c, s, o, e) =>
        {
            switch (s)
            {
                case "" or "CAMEL_STRING": return new GrpcStatusOperator(GrpcStatusOperator.Style.CamelString);
                case "SNAKE_STRING": return new GrpcStatusOperator(GrpcStatusOperator.Style.SnakeString);
                case "NUMBER": return new GrpcStatusOperator(GrpcStatusOperator.Style.Number);
                default:
                    e.Add("GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.");
                    return null;
            }
        });
        Simple("GRPC_STATUS_NUMBER", new GrpcStatusOperator(GrpcStatusOperator.Style.Number));
        Simple("REQUEST_HEADERS_BYTES", new HeadersBytesOperator(HeaderSource.Request));
        Simple("RESPONSE_HEADERS_BYTES", new HeadersBytesOperator(HeaderSource.Response));
        Simple("RESPONSE_TRAILERS_BYTES", new HeadersBytesOperator(HeaderSource.Trailer));
        Simple("TRACE_ID", new TraceIdOperator());

        // Stream info (Envoy's stream_info_formatter).
        Simple("REQUEST_DURATION", new DurationOperator(static i => i.LastDownstreamRxByteReceived));
        // The gateway hands the whole request to the upstream at once: the first and last byte sent are one point.
        Simple("REQUEST_TX_DURATION", new DurationOperator(static i => i.FirstUpstreamTxByteSent));
        Simple("RESPONSE_DURATION", new DurationOperator(static i => i.FirstUpstreamRxByteReceived));
        Simple("RESPONSE_TX_DURATION", new DurationOperator(static i => i.Duration is { } end && i.FirstUpstreamRxByteReceived is { } first ? end - first : null));
        // Envoy's currentDuration: the time so far on an entry written before the end (DownstreamStart, periodic).
        Simple("DURATION", new DurationOperator(static i => i.CurrentDuration));
        Add("COMMON_DURATION", Syntax.ParamsRequired, static (c, s, o, e) => CommonDuration(s, e));
        Simple("BYTES_RECEIVED", new StreamInfoNumberOperator(static i => i.BytesReceived, bodyBytes: true));
        Simple("BYTES_SENT", new StreamInfoNumberOperator(static i => i.BytesSent, bodyBytes: true));
        Simple("PROTOCOL", new ProtocolOperator());
        Simple("RESPONSE_CODE", new StreamInfoNumberOperator(static i => i.ResponseCode));
        Add("RESPONSE_CODE_DETAILS", Syntax.ParamsOptional, static (c, s, o, e) =>
            new StreamInfoStringOperator(static i => i.Details, spacesToUnderscores: s != "ALLOW_WHITESPACES"));
        Simple("RESPONSE_FLAGS", new ResponseFlagsOperator(longNames: false));
        Simple("RESPONSE_FLAGS_LONG", new ResponseFlagsOperator(longNames: true));
        Simple("UPSTREAM_HOST", new AddressOperator(AddressSource.UpstreamRemote, AddressPart.WithPort));
        Simple("UPSTREAM_HOST_NAME", new UpstreamHostNameOperator(withoutPort: false));
        Simple("UPSTREAM_HOST_NAME_WITHOUT_PORT", new UpstreamHostNameOperator(withoutPort: true));
        // alt_stat_name is not supported, so the observability name is the name.
        Simple("UPSTREAM_CLUSTER", new StreamInfoStringOperator(static i => i.UpstreamCluster?.Name));
        Simple("UPSTREAM_CLUSTER_RAW", new StreamInfoStringOperator(static i => i.UpstreamCluster?.Name));
        Simple("UPSTREAM_REMOTE_ADDRESS", new AddressOperator(AddressSource.UpstreamRemote, AddressPart.WithPort));
        Simple("UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", new AddressOperator(AddressSource.UpstreamRemote, AddressPart.WithoutPort));
        Simple("UPSTREAM_REMOTE_PORT", new AddressOperator(AddressSource.UpstreamRemote, AddressPart.Port));
        Simple("CONNECTION_ID", new StreamInfoNumberOperator(static i => i.ConnectionId));
        Simple("FILTER_CHAIN_NAME", new StreamInfoStringOperator(static i => i.FilterChainName));
        Simple("UPSTREAM_REQUEST_ATTEMPT_COUNT", new StreamInfoNumberOperator(static i => i.AttemptCount));
        Simple("UPSTREAM_TRANSPORT_FAILURE_REASON", new StreamInfoStringOperator(static i => i.UpstreamTransportFailureReason?.Replace(' ', '_')));
        // No PROXY protocol or original-destination listener filters: the direct local address is the local address; the
        // remote one differs when the connection manager trusted x-forwarded-for.
        foreach (var (prefix, source) in new[] { ("DOWNSTREAM_LOCAL", AddressSource.DownstreamLocal), ("DOWNSTREAM_DIRECT_LOCAL", AddressSource.DownstreamLocal), ("DOWNSTREAM_REMOTE", AddressSource.DownstreamRemote), ("DOWNSTREAM_DIRECT_REMOTE", AddressSource.DownstreamDirectRemote) })
        {
            Simple(prefix + "_ADDRESS", new AddressOperator(source, AddressPart.WithPort));
            Simple(prefix + "_ADDRESS_WITHOUT_PORT", new AddressOperator(source, AddressPart.WithoutPort));
            Simple(prefix + "_PORT", new AddressOperator(source, AddressPart.Port));
        }
        Simple("REQUESTED_SERVER_NAME", new RequestedServerNameOperator());
        Simple("ROUTE_NAME", new StreamInfoStringOperator(static i => i.RouteName));
        Simple("VIRTUAL_CLUSTER_NAME", new StreamInfoStringOperator(static i => i.VirtualClusterName));
        Add("HOSTNAME", Syntax.CommandOnly, static (c, s, o, e) => new ConstantOperator(o.HostName ?? MachineHostName()));
        Add("UNIQUE_ID", Syntax.CommandOnly, static (c, s, o, e) => new UniqueIdOperator(o.Random));
        // Envoy's stream id is the request id (the UUID request id extension's provider).
        Simple("STREAM_ID", new StreamInfoStringOperator(static i => i.RequestId));
        Add("START_TIME", Syntax.ParamsOptional, static (c, s, o, e) => Time(TimeSource.Start, s, local: false, o, e));
        Add("START_TIME_LOCAL", Syntax.ParamsOptional, static (c, s, o, e) => Time(TimeSource.Start, s, local: true, o, e));
        Add("EMIT_TIME", Syntax.ParamsOptional, static (c, s, o, e) => Time(TimeSource.Emit, s, local: false, o, e));
        Add("EMIT_TIME_LOCAL", Syntax.ParamsOptional, static (c, s, o, e) => Time(TimeSource.Emit, s, local: true, o, e));
        Add("DYNAMIC_METADATA", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Metadata(MetadataSource.Dynamic, s));
        Add("CLUSTER_METADATA", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Metadata(MetadataSource.Cluster, s));
        Add("UPSTREAM_METADATA", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) => Metadata(MetadataSource.UpstreamHost, s));
        AddTls(Simple, Add);
        Add("ENVIRONMENT", Syntax.ParamsRequired | Syntax.LengthAllowed, static (c, s, o, e) =>
            // Read once, when the format is compiled, as Envoy; an unset variable prints "-" (a string, also in JSON).
            new ConstantOperator(Environment.GetEnvironmentVariable(s) ?? "-"));
        return table;
    }

    private static Dictionary<string, string> BuildRefused()
    {
        var refused = new Dictionary<string, string>(StringComparer.Ordinal);

        void Add(string reason, params string[] names)
        {
            foreach (var name in names)
            {
                refused.Add(name, reason);
            }
        }

        Add("the upstream connection's number is not recorded (SocketsHttpHandler does not expose its connections)", "UPSTREAM_CONNECTION_ID");
        Add("the local address of the upstream connection is not recorded (SocketsHttpHandler does not expose it)", "UPSTREAM_LOCAL_ADDRESS", "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "UPSTREAM_LOCAL_PORT");
        Add("the protocol of the upstream attempt is not recorded", "UPSTREAM_PROTOCOL");
        Add("connection termination and close details are not recorded", "CONNECTION_TERMINATION_DETAILS", "UPSTREAM_LOCAL_CLOSE_REASON", "DOWNSTREAM_LOCAL_CLOSE_REASON", "UPSTREAM_DETECTED_CLOSE_TYPE", "DOWNSTREAM_DETECTED_CLOSE_TYPE");
        Add("the gateway has no filter state", "FILTER_STATE", "UPSTREAM_FILTER_STATE");
        Add("custom response flags are not supported", "CUSTOM_FLAGS");
        Add("transport-level statistics are not recorded", "DOWNSTREAM_HANDSHAKE_DURATION", "ROUNDTRIP_DURATION", "BYTES_RETRANSMITTED", "PACKETS_RETRANSMITTED");
        Add("wire and header byte meters are not kept", "UPSTREAM_WIRE_BYTES_SENT", "UPSTREAM_WIRE_BYTES_RECEIVED", "UPSTREAM_HEADER_BYTES_SENT", "UPSTREAM_HEADER_BYTES_RECEIVED", "DOWNSTREAM_WIRE_BYTES_SENT", "DOWNSTREAM_WIRE_BYTES_RECEIVED", "DOWNSTREAM_HEADER_BYTES_SENT", "DOWNSTREAM_HEADER_BYTES_RECEIVED");
        Add("connection pool timing is not recorded", "UPSTREAM_CONNECTION_POOL_READY_DURATION");
        Add(".NET's SslStream does not expose the TLS session id", "DOWNSTREAM_TLS_SESSION_ID");
        Add("otherName SANs (match by oid) are not supported", "DOWNSTREAM_PEER_OTHERNAME_SAN", "DOWNSTREAM_LOCAL_OTHERNAME_SAN");
        Add("the reason of a failed downstream handshake is not recorded", "DOWNSTREAM_TRANSPORT_FAILURE_REASON");
        Add("the gateway does not record upstream TLS facts", "UPSTREAM_TLS_VERSION", "UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_SESSION_ID",
            "UPSTREAM_PEER_ISSUER", "UPSTREAM_PEER_CERT", "UPSTREAM_PEER_SUBJECT", "UPSTREAM_PEER_URI_SAN", "UPSTREAM_PEER_DNS_SAN", "UPSTREAM_PEER_IP_SAN",
            "UPSTREAM_LOCAL_URI_SAN", "UPSTREAM_LOCAL_DNS_SAN", "UPSTREAM_LOCAL_IP_SAN", "UPSTREAM_PEER_CERT_V_START", "UPSTREAM_PEER_CERT_V_END",
            "TLS_JA3_FINGERPRINT", "TLS_JA4_FINGERPRINT");
        Add("not implemented yet", "QUERY_PARAM", "PATH", "COALESCE");
        return refused;
    }

    /// <summary>The downstream TLS operators (Envoy's SSL connection info providers).</summary>
    private static void AddTls(Action<string, FormatOperator> simple, Action<string, Syntax, Factory> add)
    {
        simple("DOWNSTREAM_TLS_VERSION", new TlsOperator(static t => t.Version));
        simple("DOWNSTREAM_TLS_CIPHER", new TlsOperator(static t => t.Cipher));
        simple("DOWNSTREAM_PEER_URI_SAN", new TlsOperator(static t => t.Peer is { } p ? TlsOperator.Join(p.UriSans) : null));
        simple("DOWNSTREAM_PEER_DNS_SAN", new TlsOperator(static t => t.Peer is { } p ? TlsOperator.Join(p.DnsSans) : null));
        simple("DOWNSTREAM_PEER_IP_SAN", new TlsOperator(static t => t.Peer is { } p ? TlsOperator.Join(p.IpSans) : null));
        simple("DOWNSTREAM_PEER_EMAIL_SAN", new TlsOperator(static t => t.Peer is { } p ? TlsOperator.Join(p.EmailSans) : null));
        simple("DOWNSTREAM_LOCAL_URI_SAN", new TlsOperator(static t => t.Local is { } l ? TlsOperator.Join(l.UriSans) : null));
        simple("DOWNSTREAM_LOCAL_DNS_SAN", new TlsOperator(static t => t.Local is { } l ? TlsOperator.Join(l.DnsSans) : null));
        simple("DOWNSTREAM_LOCAL_IP_SAN", new TlsOperator(static t => t.Local is { } l ? TlsOperator.Join(l.IpSans) : null));
        simple("DOWNSTREAM_LOCAL_EMAIL_SAN", new TlsOperator(static t => t.Local is { } l ? TlsOperator.Join(l.EmailSans) : null));
        simple("DOWNSTREAM_PEER_SUBJECT", new TlsOperator(static t => t.Peer?.Subject));
        simple("DOWNSTREAM_LOCAL_SUBJECT", new TlsOperator(static t => t.Local?.Subject));
        simple("DOWNSTREAM_PEER_ISSUER", new TlsOperator(static t => t.Peer?.Issuer));
        simple("DOWNSTREAM_PEER_FINGERPRINT_256", new TlsOperator(static t => t.Peer?.Sha256));
        simple("DOWNSTREAM_PEER_FINGERPRINT_1", new TlsOperator(static t => t.Peer?.Sha1));
        simple("DOWNSTREAM_PEER_SERIAL", new TlsOperator(static t => t.Peer?.Serial));
        simple("DOWNSTREAM_PEER_CERT", new TlsOperator(static t => t.Peer?.UrlEncodedPem));
        simple("DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256", new TlsOperator(static t => t.Peer?.ChainSha256));
        simple("DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1", new TlsOperator(static t => t.Peer?.ChainSha1));
        simple("DOWNSTREAM_PEER_CHAIN_SERIALS", new TlsOperator(static t => t.Peer?.ChainSerials));
        add("DOWNSTREAM_PEER_CERT_V_START", Syntax.ParamsOptional, static (c, s, o, e) => CertificateTime(start: true, s, e));
        add("DOWNSTREAM_PEER_CERT_V_END", Syntax.ParamsOptional, static (c, s, o, e) => CertificateTime(start: false, s, e));
    }

    private static CertificateTimeOperator? CertificateTime(bool start, string format, List<string> errors)
    {
        var formatter = DateFormatter.Create(format.Length > 0 ? format : DateFormatter.DefaultUtcFormat, TimeZoneInfo.Utc, out var error);
        if (formatter is null)
        {
            errors.Add(error!);
            return null;
        }
        return new CertificateTimeOperator(start, formatter);
    }

    private static string? MachineHostName()
    {
        try
        {
            return Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    private static HeaderOperator? Header(HeaderSource source, string sub, List<string> errors, bool withoutQuery)
    {
        // Envoy's SubstitutionFormatUtils::parseSubcommandHeaders: X or X?Y, names checked and lower-cased.
        var parts = sub.Split('?');
        if (parts.Length > 2)
        {
            errors.Add($"More than 1 alternative header specified in token: {sub}");
            return null;
        }
        var main = parts[0].ToLowerInvariant();
        var alternative = parts.Length == 2 ? parts[1].ToLowerInvariant() : null;
        if (!ValidHeaderName(main) || (alternative is not null && alternative.Length > 0 && !ValidHeaderName(alternative)))
        {
            errors.Add("Invalid header configuration. Format string contains invalid characters.");
            return null;
        }
        return new HeaderOperator(source, main, string.IsNullOrEmpty(alternative) ? null : alternative, withoutQuery);
    }

    /// <summary>Envoy's HeaderUtility::headerNameIsValid: a token, optionally after the ':' of a pseudo-header.</summary>
    private static bool ValidHeaderName(string name)
    {
        var token = name.StartsWith(':') ? name.AsSpan(1) : name.AsSpan();
        if (token.IsEmpty)
        {
            return false;
        }
        foreach (var c in token)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }

    private static TimeOperator? Time(TimeSource source, string format, bool local, FormatterOptions options, List<string> errors)
    {
        var zone = local ? options.LocalZone : TimeZoneInfo.Utc;
        var pattern = format.Length > 0 ? format : local ? DateFormatter.DefaultLocalFormat : DateFormatter.DefaultUtcFormat;
        var formatter = DateFormatter.Create(pattern, zone, out var error);
        if (formatter is null)
        {
            errors.Add(error!);
            return null;
        }
        return new TimeOperator(source, formatter, options.Time);
    }

    private static MetadataOperator Metadata(MetadataSource source, string sub)
    {
        var parts = sub.Split(':');
        return new MetadataOperator(source, parts[0], parts[1..]);
    }

    private static MetadataOperator? MetadataExtension(string sub, List<string> errors)
    {
        // envoy.formatter.metadata: %METADATA(TYPE:NAMESPACE:KEY...)%.
        var parts = sub.Split(':');
        if (parts.Length < 2)
        {
            errors.Add($"METADATA requires a metadata type and a namespace: {sub}");
            return null;
        }
        MetadataSource? source = parts[0] switch
        {
            "DYNAMIC" => MetadataSource.Dynamic,
            "CLUSTER" => MetadataSource.Cluster,
            "UPSTREAM_HOST" => MetadataSource.UpstreamHost,
            "ROUTE" => MetadataSource.Route,
            "VIRTUAL_HOST" => MetadataSource.VirtualHost,
            _ => null,
        };
        if (source is null)
        {
            errors.Add(parts[0] == "LISTENER"
                ? "METADATA(LISTENER:...) is not supported by this gateway: listener metadata is not supported"
                : $"Unknown metadata type: {parts[0]}");
            return null;
        }
        return new MetadataOperator(source.Value, parts[1], parts[2..]);
    }

    private static CommonDurationOperator? CommonDuration(string sub, List<string> errors)
    {
        var parts = sub.Split(':');
        if (parts.Length is < 2 or > 3)
        {
            errors.Add($"Invalid common duration configuration: {sub}.");
            return null;
        }
        long ticksPerUnit = TimeSpan.TicksPerMillisecond;
        long unitsPerTick = 0;
        if (parts.Length == 3)
        {
            switch (parts[2])
            {
                case "ms":
                    break;
                case "us":
                    ticksPerUnit = 10;
                    break;
                case "ns":
                    unitsPerTick = 100;
                    break;
                default:
                    errors.Add($"Invalid common duration precision: {parts[2]}.");
                    return null;
            }
        }
        var start = TimePoint(parts[0], errors);
        var end = TimePoint(parts[1], errors);
        return start is null || end is null ? null : new CommonDurationOperator(start, end, ticksPerUnit, unitsPerTick);
    }

    private static Func<RequestStreamInfo, TimeSpan?>? TimePoint(string name, List<string> errors)
    {
        switch (name)
        {
            case "DS_RX_BEG": return static _ => TimeSpan.Zero;
            case "DS_RX_END": return static i => i.LastDownstreamRxByteReceived;
            case "US_TX_BEG" or "US_TX_END": return static i => i.FirstUpstreamTxByteSent;
            case "US_RX_BEG": return static i => i.FirstUpstreamRxByteReceived;
            case "US_RX_END": return static i => i.LastUpstreamRxByteReceived;
            case "DS_TX_BEG": return static i => i.FirstDownstreamTxByteSent;
            case "DS_TX_END": return static i => i.Duration;
            case "US_CX_BEG" or "US_CX_END" or "US_HS_END":
                errors.Add($"COMMON_DURATION is not supported by this gateway for {name}: upstream connection timing is not recorded");
                return null;
            default:
                // Envoy reads any other name as a filter's custom timing point; no filter here sets one.
                errors.Add($"COMMON_DURATION is not supported by this gateway for {name}: no filter records custom time points");
                return null;
        }
    }
}

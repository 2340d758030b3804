using System.Text;
using Gateway.Tls;

namespace Gateway.Formatting;

/// <summary>
/// <c>%DOWNSTREAM_PEER_*%</c>, <c>%DOWNSTREAM_LOCAL_*%</c> and <c>%DOWNSTREAM_TLS_*%</c>: a text of the connection's TLS
/// facts (<see cref="DownstreamTlsInfo"/>); nothing (<c>-</c>) in plain text, without a client certificate, or when the
/// value is empty, as Envoy's SSL providers.
/// </summary>
internal sealed class TlsOperator(Func<DownstreamTlsInfo, string?> read) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (Of(context) is not { } tls || read(tls) is not { Length: > 0 } value)
        {
            return false;
        }
        output.Append(value);
        return true;
    }

    /// <summary>The connection's TLS facts, from the stream info or, without one, the request.</summary>
    internal static DownstreamTlsInfo? Of(in FormatterContext context)
        => context.StreamInfo is { } info ? info.DownstreamTls : context.Http?.Features.Get<DownstreamTlsInfo>();

    /// <summary>A list of SANs joined by <c>,</c> (Envoy's StrJoin), null when there is none.</summary>
    internal static string? Join(string[] values) => values.Length == 0 ? null : values.Length == 1 ? values[0] : string.Join(',', values);
}

/// <summary><c>%DOWNSTREAM_PEER_CERT_V_START(FORMAT)%</c> and <c>%DOWNSTREAM_PEER_CERT_V_END(FORMAT)%</c>: the client certificate's validity.</summary>
internal sealed class CertificateTimeOperator(bool start, DateFormatter formatter) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (TlsOperator.Of(context)?.Peer is not { } peer)
        {
            return false;
        }
        formatter.Append(start ? peer.NotBefore : peer.NotAfter, output);
        return true;
    }
}

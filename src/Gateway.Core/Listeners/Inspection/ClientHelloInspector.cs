using System.IO.Pipelines;
using Gateway.Stats;

namespace Gateway.Listeners.Inspection;

/// <summary>How a connection's listener filters ended.</summary>
internal enum InspectionOutcome
{
    /// <summary>The filters decided: choose the chain.</summary>
    Done,

    /// <summary><c>listener_filters_timeout</c> passed: the connection is closed, or with <c>continue_on_listener_filters_timeout</c> given a chain with the defaults.</summary>
    TimedOut,

    /// <summary>The client closed the connection first.</summary>
    RemoteClosed,

    /// <summary>A filter refused the connection (the ClientHello is over the limit).</summary>
    Error,
}

/// <summary>What the listener filters found out about a connection (Envoy's socket's detected transport, SNI and ALPN).</summary>
internal sealed class InspectedConnection
{
    /// <summary>Envoy's default when no listener filter set it.</summary>
    public const string RawBuffer = "raw_buffer";

    public string TransportProtocol { get; set; } = RawBuffer;

    public ClientHelloInfo Hello { get; } = new();
}

/// <summary>
/// The <c>envoy.filters.listener.tls_inspector</c> listener filter: peeks at a new connection's first bytes (never
/// consuming them, so the TLS stack or the HTTP/1 parser reads the same bytes) until it knows whether they are a TLS
/// ClientHello, and reads its SNI and ALPN for filter chain matching.
/// </summary>
internal sealed class ClientHelloInspector(TlsInspectorStats stats)
{
    public TlsInspectorStats Stats { get; } = stats;

    /// <summary>
    /// Reads until the first bytes decide, the client closes, or <paramref name="timeout"/> passes (zero: no limit). On
    /// <see cref="InspectionOutcome.Done"/> the input is left as it was received.
    /// </summary>
    public async ValueTask<InspectionOutcome> InspectAsync(PipeReader input, InspectedConnection found, TimeSpan timeout, TimeProvider time, CancellationToken closed)
    {
        using var deadline = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout, time) : null;
        using var linked = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, closed);
        var token = linked?.Token ?? closed;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline?.IsCancellationRequested == true && !closed.IsCancellationRequested)
            {
                // What was read so far decided nothing: the connection keeps the defaults (raw_buffer, no SNI).
                return InspectionOutcome.TimedOut;
            }
            catch (OperationCanceledException)
            {
                return InspectionOutcome.RemoteClosed;
            }
            catch (IOException)
            {
                return InspectionOutcome.RemoteClosed;
            }
            var buffer = result.Buffer;
            var status = ClientHelloParser.Parse(buffer, ClientHelloParser.MaxClientHelloSize, found.Hello);
            if (status == ClientHelloStatus.NeedMoreData && !result.IsCompleted && !result.IsCanceled)
            {
                // Nothing consumed; everything examined, so the next read waits for more bytes.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            // Nothing consumed or examined: the next reader (SslStream, the HTTP parser) starts from the first byte.
            input.AdvanceTo(buffer.Start);
            Stats.BytesProcessed.Record(Math.Min(buffer.Length, ClientHelloParser.MaxClientHelloSize));
            switch (status)
            {
                case ClientHelloStatus.Tls:
                    Stats.TlsFound.Increment();
                    found.TransportProtocol = "tls";
                    (found.Hello.ServerName.Length != 0 ? Stats.SniFound : Stats.SniNotFound).Increment();
                    (found.Hello.ApplicationProtocols.Count != 0 ? Stats.AlpnFound : Stats.AlpnNotFound).Increment();
                    return InspectionOutcome.Done;
                case ClientHelloStatus.NotTls:
                    Stats.TlsNotFound.Increment();
                    return InspectionOutcome.Done;
                case ClientHelloStatus.TooLarge:
                    Stats.ClientHelloTooLarge.Increment();
                    return InspectionOutcome.Error;
                default:
                    // The client ended the connection before its first bytes decided anything.
                    return InspectionOutcome.RemoteClosed;
            }
        }
    }
}

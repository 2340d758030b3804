using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners.Upgrades;

/// <summary>
/// An accepted upgrade's opaque stream, counted: once the upstream answered 101 (or 200 to an extended CONNECT) the
/// forwarder copies the tunnel's bytes on the stream the server feature hands out, past the request and response body
/// counters; these decorators count that payload into the stream info (Envoy's bytesReceived/bytesSent of the upgraded
/// stream, <c>%BYTES_RECEIVED%</c>/<c>%BYTES_SENT%</c>) and restart the route's idle timer on it, as Envoy's codec
/// activity does.
/// </summary>
internal static class UpgradeStreams
{
    /// <summary>Wraps the server's upgrade feature (HTTP/1.1) or extended CONNECT feature (HTTP/2) of an accepted upgrade.</summary>
    public static void Install(HttpContext context, RequestStreamInfo info, ListenerRuntime listener)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new CountedExtendedConnect(connect, info, listener));
        }
        else if (context.Features.Get<IHttpUpgradeFeature>() is { } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new CountedUpgrade(upgrade, info, listener));
        }
    }

    /// <summary>The tunnel is open (the 101 went out): Envoy's flush_log_on_tunnel_successfully_established entry, then the counted stream.</summary>
    private static CountingStream Established(Stream tunnel, RequestStreamInfo info, ListenerRuntime listener)
    {
        if (listener.ConnectionManager.FlushLogOnTunnelEstablished)
        {
            AccessLog.AccessLogger.LogAll(listener.AccessLogs, AccessLog.AccessLogContext.ForRequest(info, Configuration.AccessLogType.DownstreamTunnelSuccessfullyEstablished));
        }
        return new CountingStream(tunnel, info);
    }

    private sealed class CountedUpgrade(IHttpUpgradeFeature inner, RequestStreamInfo info, ListenerRuntime listener) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => Established(await inner.UpgradeAsync().ConfigureAwait(false), info, listener);
    }

    private sealed class CountedExtendedConnect(IHttpExtendedConnectFeature inner, RequestStreamInfo info, ListenerRuntime listener) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync() => Established(await inner.AcceptAsync().ConfigureAwait(false), info, listener);
    }

    /// <summary>The tunnel both ways: reads are the client's bytes, writes the upstream's.</summary>
    internal sealed class CountingStream(Stream inner, RequestStreamInfo info) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Received(inner.Read(buffer, offset, count), count);

        public override int Read(Span<byte> buffer) => Received(inner.Read(buffer), buffer.Length);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => Received(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Sent(buffer.Length);
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Sent(buffer.Length);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        // The client half-closing the tunnel (a read of 0) is the end of its request stream.
        private int Received(int read, int asked) => info.OnDownstreamRead(read, asked);

        private void Sent(int length) => info.OnDownstreamWrite(length);
    }
}

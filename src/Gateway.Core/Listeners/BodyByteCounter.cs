using Gateway.IO;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners;

/// <summary>
/// Counts the body bytes of one request both ways into its <see cref="RequestStreamInfo"/> (Envoy's bytesReceived and
/// bytesSent), and marks the end of the request body. Installed by the connection manager only when its plan asks
/// (<c>CountsBodyBytes</c>): the request body stream and the response body feature are replaced by these wrappers.
/// </summary>
internal static class BodyByteCounter
{
    public static void Install(HttpContext context, RequestStreamInfo info)
    {
        var request = context.Request;
        request.Body = new CountingRequestBody(request.Body, info);
        var inner = context.Features.Get<IHttpResponseBodyFeature>();
        if (inner is not null)
        {
            context.Features.Set<IHttpResponseBodyFeature>(new CountingResponseBody(inner, info));
        }
    }

    /// <summary>The request body as read by the router or a buffering filter.</summary>
    private sealed class CountingRequestBody(Stream inner, RequestStreamInfo info) : ReadOnlyForwardStream
    {
        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count), count);

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer), buffer.Length);

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false), count);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

        private int Counted(int read, int asked) => info.OnDownstreamRead(read, asked);
    }

    /// <summary>The response body as the client receives it (after any filter's encoding).</summary>
    private sealed class CountingResponseBody(IHttpResponseBodyFeature inner, RequestStreamInfo info) : ForwardingResponseBody(inner)
    {
        protected override Task OnStartAsync(CancellationToken cancellationToken)
        {
            info.OnResponseActivity();
            return Inner.StartAsync(cancellationToken);
        }

        protected override void OnWritten(int bytes)
        {
            info.OnDownstreamWrite(bytes);
        }
    }
}

using Gateway.IO;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// The request body of an <c>Expect: 100-continue</c> request under <c>proxy_100_continue</c>: Kestrel sends the client
/// its 100 at the body's first read, which the upstream's own 100 (or .NET's client giving up waiting for it) causes, so
/// that read is where the proxied 1xx is charged, as Envoy charges the 1xx it encodes.
/// </summary>
internal sealed class Proxy100ContinueBody(Stream inner, ConnectionManagerStats stats) : ReadOnlyForwardStream
{
    private int _charged;

    public override int Read(byte[] buffer, int offset, int count)
    {
        Charge();
        return inner.Read(buffer, offset, count);
    }

    public override int Read(Span<byte> buffer)
    {
        Charge();
        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Charge();
        return inner.ReadAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Charge();
        return inner.ReadAsync(buffer, cancellationToken);
    }

    private void Charge()
    {
        if (Interlocked.Exchange(ref _charged, 1) == 0)
        {
            stats.ChargeResponse(StatusCodes.Status100Continue);
        }
    }
}

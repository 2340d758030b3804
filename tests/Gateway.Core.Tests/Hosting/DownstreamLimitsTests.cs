using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>Kestrel's limits follow Envoy's defaults: no body size or rate limit, an hour of keep-alive, Envoy's HTTP/2 settings.</summary>
public class DownstreamLimitsTests
{
    [Fact]
    public async Task ApplyEnvoyLimits_Body31MB_StreamsThrough()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [upstream.Port]));
        const long size = 31L * 1024 * 1024;
        using var content = new StreamContent(new PatternStream(size), 64 * 1024);
        content.Headers.ContentLength = size;

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/big"), content, cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size, Assert.Single(upstream.Requests).BodyLength);
    }

    [Fact]
    public async Task ApplyEnvoyLimits_BodyAt100BytesPerSecond_IsNotCut()
    {
        // Kestrel's default minimum is 240 B/s after a 5 s grace period; this body takes about 7 s at 100 B/s.
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [upstream.Port]));
        const int length = 700;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        await connection.WriteAsync($"POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: {length}\r\n\r\n");

        var clock = Stopwatch.StartNew();
        for (var sent = 0; sent < length; sent += 10)
        {
            await connection.WriteAsync(new string('b', 10));
            var due = TimeSpan.FromMilliseconds((sent + 10) * 10);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
        }
        var response = await connection.ReadResponseAsync();

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(6), clock.Elapsed.ToString());
        Assert.Equal(200, response.Status);
        Assert.Equal(length, Assert.Single(upstream.Requests).BodyLength);
    }

    [Fact]
    public async Task ApplyEnvoyLimits_KestrelOptions_AreEnvoysDefaults()
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [9]));
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Null(limits.MaxRequestBodySize);
        Assert.Null(limits.MinRequestBodyDataRate);
        Assert.Null(limits.MinResponseDataRate);
        Assert.Equal(TimeSpan.FromHours(1), limits.KeepAliveTimeout);
        Assert.Equal(100, limits.MaxRequestHeaderCount);
        // The slowloris guard Envoy lacks by default stays (docs/compatibility.md).
        Assert.Equal(TimeSpan.FromSeconds(30), limits.RequestHeadersTimeout);
        Assert.Equal(1024, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(16 * 1024 * 1024, limits.Http2.InitialStreamWindowSize);
        Assert.Equal(24 * 1024 * 1024, limits.Http2.InitialConnectionWindowSize);
    }

    /// <summary>A read-only stream of <c>length</c> bytes, produced as it is read.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill((byte)'p');
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

using System.Net;
using Gateway.Clusters;
using Gateway.Stats;

namespace Gateway.Tests.Clusters;

/// <summary>The per-host pools of auto_sni clusters: one inner handler per request host, the bound, idle disposal, reloads.</summary>
public sealed class HostConnectionPoolsTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromHours(1);

    /// <summary>An inner handler that answers 200 naming itself and records its disposal.</summary>
    private sealed class RecordingHandler(int id) : HttpMessageHandler
    {
        public int Id { get; } = id;

        public bool Disposed { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Id.ToString(System.Globalization.CultureInfo.InvariantCulture)) });

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now;

        public void Advance(TimeSpan by) => Now += by.Ticks;
    }

    private sealed class Fixture : IDisposable
    {
        public Fixture(int maxPools = HostConnectionPools.MaxPools)
        {
            Pools = new HostConnectionPools(() =>
            {
                var handler = new RecordingHandler(Handlers.Count);
                Handlers.Add(handler);
                return handler;
            }, Idle, Clock, maxPools);
            Invoker = new HttpMessageInvoker(Pools, disposeHandler: true);
        }

        public List<RecordingHandler> Handlers { get; } = [];

        public ManualClock Clock { get; } = new();

        public HostConnectionPools Pools { get; }

        public HttpMessageInvoker Invoker { get; }

        /// <summary>Sends a request with <paramref name="host"/> as Host; returns the id of the inner handler that served it.</summary>
        public async Task<int> SendAsync(string? host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:9000/x");
            if (host is not null)
            {
                request.Headers.Host = host;
            }
            using var response = await Invoker.SendAsync(request, CancellationToken.None);
            return int.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public void Dispose() => Invoker.Dispose();
    }

    [Fact]
    public async Task SendAsync_SameHostWithOrWithoutPort_SamePoolOtherHostsOwnPools()
    {
        using var fixture = new Fixture();

        var a = await fixture.SendAsync("a.example");
        var aWithPort = await fixture.SendAsync("a.example:8443");
        var b = await fixture.SendAsync("b.example");
        // Envoy's SNI is the host as written: case differs, pool differs.
        var upper = await fixture.SendAsync("A.example");
        // No Host: the URI's authority (the endpoint) is the request's host.
        var none = await fixture.SendAsync(null);
        var endpoint = await fixture.SendAsync("127.0.0.1");

        Assert.Equal(a, aWithPort);
        Assert.Equal(new[] { 0, 1, 2, 3 }, new[] { a, b, upper, none });
        Assert.Equal(none, endpoint);
        Assert.Equal(4, fixture.Pools.Count);
    }

    [Fact]
    public async Task SendAsync_PastTheBound_LeastRecentlyUsedPoolDisposed()
    {
        using var fixture = new Fixture(maxPools: 2);

        await fixture.SendAsync("a.example");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        await fixture.SendAsync("b.example");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        await fixture.SendAsync("a.example");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var c = await fixture.SendAsync("c.example");

        Assert.Equal(2, c);
        Assert.Equal(2, fixture.Pools.Count);
        Assert.False(fixture.Handlers[0].Disposed);
        Assert.True(fixture.Handlers[1].Disposed);
        // b comes back with a new pool (and evicts a, now the least recently used).
        Assert.Equal(3, await fixture.SendAsync("b.example"));
        Assert.True(fixture.Handlers[0].Disposed);
    }

    [Fact]
    public async Task SendAsync_PoolIdleForTheIdleTimeout_DisposedWhenAnotherIsCreated()
    {
        using var fixture = new Fixture();
        await fixture.SendAsync("a.example");
        await fixture.SendAsync("b.example");

        fixture.Clock.Advance(Idle - TimeSpan.FromSeconds(1));
        await fixture.SendAsync("b.example");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        await fixture.SendAsync("c.example");

        Assert.True(fixture.Handlers[0].Disposed);
        Assert.False(fixture.Handlers[1].Disposed);
        Assert.Equal(2, fixture.Pools.Count);
    }

    [Fact]
    public async Task Dispose_DisposesEveryPool_LaterRequestsRefused()
    {
        var fixture = new Fixture();
        await fixture.SendAsync("a.example");
        await fixture.SendAsync("b.example");

        fixture.Dispose();

        Assert.All(fixture.Handlers, handler => Assert.True(handler.Disposed));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fixture.SendAsync("a.example"));
    }

    [Fact]
    public async Task AdoptHostPools_Reload_DisposesThePoolsItReplaces()
    {
        var cluster = new ClusterRuntime("backend", new ClusterStats(new StatsStore(), "backend"));
        using var old = new Fixture();
        using var current = new Fixture();
        await old.SendAsync("a.example");
        await current.SendAsync("a.example");

        cluster.AdoptHostPools(old.Pools);
        cluster.AdoptHostPools(current.Pools);

        Assert.True(old.Handlers[0].Disposed);
        Assert.False(current.Handlers[0].Disposed);
        // The cluster was removed, or no longer follows the host.
        cluster.AdoptHostPools(null);
        Assert.True(current.Handlers[0].Disposed);
    }
}

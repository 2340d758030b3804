using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// Slowloris, a slow body, a 5,000-connection flood and an upstream killed under load, against the real gateway
/// process in front of a <see cref="RawUpstream"/> (a fresh pair per test; the tests of this class run one after
/// another). Every loop is bounded in count and time; everything is on 127.0.0.1.
/// </summary>
[Trait("Category", "Stress")]
[Collection(StressCollection.Name)]
public sealed class StressTests(ITestOutputHelper log)
{
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Envoy has no request-headers timeout by default; the gateway keeps Kestrel's 30 s one against slowloris (a
    /// documented difference). While 300 connections dribble header bytes, normal requests are served and memory stays
    /// bounded; the dribbling connections are closed once the 30 s are up (checked up to 42 s after they started).
    /// </summary>
    [StressFact]
    public async Task Slowloris_ConnectionsDribblingHeaders_OthersServedAndDribblersClosedAfterHeaderTimeout()
    {
        const int dribblers = 300;
        await using var pair = await StartAsync();
        var pid = pair.Gateway.ProcessId;
        var rssBefore = ProcessResources.RssMiB(pid);

        var sockets = new Socket[dribblers];
        var closedAt = new TimeSpan?[dribblers];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < dribblers; i++)
        {
            sockets[i] = await ConnectAsync(pair.ListenerPort);
            await sockets[i].SendAsync(Encoding.ASCII.GetBytes($"GET /slowloris/{i} HTTP/1.1\r\nHost: battery\r\nx-case: slowloris\r\n"), SocketFlags.None);
        }
        var watchers = new Task[dribblers];
        for (var i = 0; i < dribblers; i++)
        {
            var index = i;
            watchers[i] = Task.Run(async () =>
            {
                // Completes when the server closes (0 bytes, or a reset) or answers (Kestrel's 408): either ends the dribble.
                var buffer = new byte[1024];
                try
                {
                    while (await sockets[index].ReceiveAsync(buffer, SocketFlags.None) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }
                closedAt[index] = clock.Elapsed;
            });
        }

        var served = 0;
        var maxRss = rssBefore;
        var maxActive = 0L;
        var deadline = TimeSpan.FromSeconds(42);
        var tick = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (clock.Elapsed < deadline && !Array.TrueForAll(closedAt, t => t is not null))
        {
            await timer.WaitForNextTickAsync();
            tick++;
            for (var i = 0; i < dribblers; i++)
            {
                if (closedAt[i] is null)
                {
                    try
                    {
                        await sockets[i].SendAsync(Encoding.ASCII.GetBytes($"x-drip-{tick}: v\r\n"), SocketFlags.None);
                    }
                    catch (SocketException)
                    {
                    }
                }
            }
            if (clock.Elapsed < TimeSpan.FromSeconds(25))
            {
                // Served meanwhile: a normal request on a new connection, every second while the dribble goes on.
                Assert.Equal(200, await GetStatusAsync(pair.ListenerPort, $"/served/{tick}"));
                served++;
                maxActive = Math.Max(maxActive, await pair.StatAsync($"http.{HardeningGateway.StatPrefix}.downstream_cx_active"));
            }
            maxRss = Math.Max(maxRss, ProcessResources.RssMiB(pid));
        }
        await Task.WhenAll(watchers.Select(w => w.WaitAsync(TimeSpan.FromSeconds(5))));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        var closedTimes = closedAt.Where(t => t is not null).Select(t => t!.Value.TotalSeconds).Order().ToArray();
        log.WriteLine($"slowloris: served {served} normal requests, max downstream_cx_active {maxActive}, RSS {rssBefore:F0} → max {maxRss:F0} MiB, " +
            $"{closedTimes.Length}/{dribblers} dribblers closed (first {closedTimes.FirstOrDefault():F1} s, last {closedTimes.LastOrDefault():F1} s)");
        Assert.True(served >= 15, $"only {served} normal requests were served during the dribble");
        Assert.True(maxActive >= dribblers, $"downstream_cx_active peaked at {maxActive}: the {dribblers} dribbling connections were not all open");
        Assert.True(maxRss - rssBefore < 150, $"RSS grew from {rssBefore:F0} to {maxRss:F0} MiB under {dribblers} dribbling connections");
        Assert.Equal(dribblers, closedTimes.Length);
        Assert.True(closedTimes[0] >= 25, $"a dribbling connection was closed after {closedTimes[0]:F1} s, before Kestrel's 30 s request-headers timeout");
        Assert.Empty(pair.Upstream.RequestsFor("slowloris"));
        Assert.Equal(served, pair.Upstream.Requests.Count(r => r.Target.StartsWith("/served/", StringComparison.Ordinal)));
        await pair.AssertHealthyAsync("slowloris-health");
    }

    /// <summary>
    /// Envoy has no minimum request body data rate: a 1,200-byte body sent at ~100 B/s (Kestrel's default would cut
    /// it below 240 B/s after its 5 s grace) reaches the upstream whole. It stays inside the route's 15 s timeout,
    /// which here runs from route selection rather than from the end of the body (docs/compatibility.md).
    /// </summary>
    [StressFact]
    public async Task SlowBody_1200BytesAt100BytesPerSecond_ForwardedWhole()
    {
        await using var pair = await StartAsync();
        var body = new byte[1200];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)('a' + (i % 26));
        }

        await using var connection = await RawConnection.OpenAsync(pair.ListenerPort);
        await connection.SendAsync($"POST /slow-body HTTP/1.1\r\nHost: battery\r\nx-case: slow-body\r\nContent-Length: {body.Length}\r\n\r\n");
        var clock = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var sendFailure = "";
        for (var offset = 0; offset < body.Length; offset += 100)
        {
            await timer.WaitForNextTickAsync();
            try
            {
                await connection.SendAsync(body[offset..Math.Min(offset + 100, body.Length)]);
            }
            catch (SocketException ex)
            {
                sendFailure = $"; the gateway stopped reading after {clock.Elapsed.TotalSeconds:F1} s ({ex.SocketErrorCode})";
                break;
            }
        }
        RawResponse? response;
        try
        {
            response = await connection.ReadResponseAsync(ResponseTimeout);
        }
        catch (TimeoutException)
        {
            response = null;
        }

        log.WriteLine($"slow body: {clock.Elapsed.TotalSeconds:F1} s, answer {response?.StatusLine ?? "none"}{sendFailure}");
        Assert.True(response is { Status: 200 }, $"a 1,200-byte body at 100 B/s got {response?.StatusLine ?? "no answer"}{sendFailure}");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(10), "the body was not actually sent slowly");
        var upstream = Assert.Single(pair.Upstream.RequestsFor("slow-body"));
        Assert.Equal(body.Length, upstream.BodyLength);
        Assert.Equal(body, upstream.BodyPrefix);
    }

    /// <summary>
    /// 5,000 idle connections: normal requests still get 200, the gateway's memory stays bounded, and once they are
    /// closed <c>downstream_cx_active</c> returns to about 0.
    /// </summary>
    [StressFact]
    public async Task Flood_5000IdleConnections_ServesOthersAndReleasesThem()
    {
        const int flood = 5000;
        // This process holds the 5,000 client sockets; the gateway (started next, inheriting the limit) their peers.
        ProcessResources.EnsureOpenFileLimit(flood + 2000);
        await using var pair = await StartAsync();
        var pid = pair.Gateway.ProcessId;
        Assert.True(ProcessResources.OpenFileLimit(pid).Soft >= flood + 2000, $"the gateway's open-file limit is {ProcessResources.OpenFileLimit(pid).Soft}");
        var activeStat = $"http.{HardeningGateway.StatPrefix}.downstream_cx_active";
        Assert.Equal(200, await GetStatusAsync(pair.ListenerPort, "/warm-up"));
        var rssBefore = ProcessResources.RssMiB(pid);

        var sockets = new List<Socket>(flood);
        var clock = Stopwatch.StartNew();
        try
        {
            for (var batch = 0; batch < flood; batch += 250)
            {
                var connects = new Task<Socket>[Math.Min(250, flood - batch)];
                for (var i = 0; i < connects.Length; i++)
                {
                    connects[i] = ConnectAsync(pair.ListenerPort);
                }
                sockets.AddRange(await Task.WhenAll(connects));
            }
            var active = await WaitForStatAsync(pair, activeStat, v => v >= flood, TimeSpan.FromSeconds(30));
            Assert.True(active >= flood, $"{activeStat} is {active} with {flood} connections open");
            var gatewayFiles = ProcessResources.OpenFiles(pid);

            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(200, await GetStatusAsync(pair.ListenerPort, $"/during-flood/{i}"));
            }
            var rssDuring = ProcessResources.RssMiB(pid);
            log.WriteLine($"flood: {flood} connections open after {clock.Elapsed.TotalSeconds:F1} s, {activeStat} {active}, gateway fds {gatewayFiles}, " +
                $"RSS {rssBefore:F0} → {rssDuring:F0} MiB");
            Assert.True(rssDuring - rssBefore < 250, $"RSS grew from {rssBefore:F0} to {rssDuring:F0} MiB with {flood} idle connections");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        var after = await WaitForStatAsync(pair, activeStat, v => v <= 2, TimeSpan.FromSeconds(20));
        log.WriteLine($"flood: {activeStat} {after} after closing");
        Assert.True(after <= 2, $"{activeStat} is still {after} after the {flood} connections closed");
        Assert.Equal(21, pair.Upstream.Requests.Count);
        await pair.AssertHealthyAsync("flood-health");
    }

    /// <summary>
    /// A few hundred concurrent requests while the upstream's listener and connections are killed: every request gets
    /// 200 or Envoy's 503 reset reply, or a clean close; the gateway keeps running, and requests succeed again once
    /// the upstream is back.
    /// </summary>
    [StressFact]
    public async Task UpstreamKilled_UnderLoad_EveryRequestAnsweredAndRecovers()
    {
        await using var pair = await StartAsync();
        pair.Upstream.ResponseDelay = TimeSpan.FromMilliseconds(50);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 400 }) { Timeout = ResponseTimeout };

        const int workers = 300;
        const int requestsPerWorker = 20;
        var outcomes = new List<string>[workers];
        var clock = Stopwatch.StartNew();
        var successes = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killer = Task.Run(async () =>
        {
            // Kill once the load is really running (as many 200s as workers), or after 10 s at the latest.
            while (Volatile.Read(ref successes) < workers && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }
            pair.Upstream.Kill();
            killed.SetResult();
        });
        var load = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var list = outcomes[w] = [];
            for (var i = 0; i < requestsPerWorker && clock.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                try
                {
                    using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{pair.ListenerPort}/load/{w}/{i}"));
                    var text = await response.Content.ReadAsStringAsync();
                    var status = (int)response.StatusCode;
                    if (status == 200)
                    {
                        Interlocked.Increment(ref successes);
                    }
                    list.Add(status == 503 && text.StartsWith("upstream connect error or disconnect/reset before headers.", StringComparison.Ordinal)
                        ? "503-reset"
                        : status.ToString(System.Globalization.CultureInfo.InvariantCulture) + (status == 200 ? "" : $" '{text}'"));
                }
                catch (HttpRequestException ex) when (ex.InnerException is IOException or SocketException || ex.HttpRequestError is HttpRequestError.ResponseEnded)
                {
                    list.Add("closed");
                }
                catch (TaskCanceledException)
                {
                    list.Add("timeout");
                }
                if (killed.Task.IsCompleted && i >= requestsPerWorker / 2)
                {
                    break;
                }
            }
        })).ToArray();
        await Task.WhenAll(load);
        await killer;

        var all = outcomes.SelectMany(o => o).ToList();
        var summary = string.Join(", ", all.GroupBy(o => o).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}: {g.Count()}"));
        log.WriteLine($"upstream killed under load: {all.Count} requests in {clock.Elapsed.TotalSeconds:F1} s — {summary}");
        Assert.False(pair.Gateway.HasExited, $"the gateway exited. Output:\n{pair.Gateway.Output}");
        Assert.All(all, o => Assert.True(o is "200" or "503-reset" or "closed", $"unexpected outcome {o} ({summary})"));
        Assert.True(all.Count(o => o == "200") >= workers, $"the load never ran properly before the kill ({summary})");
        Assert.True(all.Any(o => o != "200"), $"no request saw the upstream go away ({summary})");

        pair.Upstream.ResponseDelay = TimeSpan.Zero;
        pair.Upstream.Restart();
        var recovered = false;
        for (var attempt = 0; attempt < 50 && !recovered; attempt++)
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{pair.ListenerPort}/after-restart/{attempt}"));
            recovered = response.StatusCode == HttpStatusCode.OK;
            if (!recovered)
            {
                await Task.Delay(200);
            }
        }
        Assert.True(recovered, "no 200 within 10 s after the upstream came back");
        await pair.AssertHealthyAsync("upstream-killed-health");
    }

    private static async Task<HardeningGateway> StartAsync()
    {
        var pair = new HardeningGateway();
        await pair.InitializeAsync();
        return pair;
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    private static async Task<int> GetStatusAsync(int port, string path)
    {
        await using var connection = await RawConnection.OpenAsync(port);
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: battery\r\n\r\n");
        var response = await connection.ReadResponseAsync(ResponseTimeout);
        return response?.Status ?? 0;
    }

    private static async Task<long> WaitForStatAsync(HardeningGateway pair, string name, Func<long, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await pair.StatAsync(name);
            if (done(value) || deadline.Elapsed > timeout)
            {
                return value;
            }
            await Task.Delay(200);
        }
    }
}

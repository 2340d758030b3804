using Gateway.Listeners;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>A gateway routing everything to a <see cref="RecordingUpstream"/>, shared by the cases of one test class.</summary>
public sealed class RawGatewayFixture : IAsyncLifetime
{
    internal RecordingUpstream Upstream { get; private set; } = null!;

    internal InProcessGateway Gateway { get; private set; } = null!;

    internal int Port => Gateway.ListenerUri("/").Port;

    public async Task InitializeAsync()
    {
        Upstream = RecordingUpstream.Start();
        Gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [Upstream.Port]));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// Envoy's HTTP/1 codec answers, raw requests on a real socket: what the client gets, what reached the upstream,
/// and that the gateway still serves the next connection.
/// </summary>
public sealed class DownstreamRequestValidatorTests(RawGatewayFixture fixture) : IClassFixture<RawGatewayFixture>
{
    private const string H = "Host: h\r\n";

    public static TheoryData<string, string, int, string> RefusedRequests => new()
    {
        // Envoy's codec errors: the status's reason phrase as the body, connection closed.
        { "HTTP/1.0 without Host", "GET /a HTTP/1.0\r\n\r\n", 426, "Upgrade Required" },
        { "HTTP/1.0", "GET /a HTTP/1.0\r\n" + H + "\r\n", 426, "Upgrade Required" },
        { "HTTP/1.0 h2c upgrade", "GET /a HTTP/1.0\r\n" + H + "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 426, "Upgrade Required" },
        { "lower-case method", "get /a HTTP/1.1\r\n" + H + "\r\n", 400, "Bad Request" },
        { "unknown method", "FOO /a HTTP/1.1\r\n" + H + "\r\n", 400, "Bad Request" },
        { "content-length and transfer-encoding", "POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request" },
        { "transfer-encoding and content-length", "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request" },
        { "gzip, chunked", "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, "Not Implemented" },
        { "chunked twice", "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, "Not Implemented" },
        { "CONNECT to a path", "CONNECT /a HTTP/1.1\r\n" + H + "\r\n", 400, "Bad Request" },
        { "CONNECT with a body", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 3\r\n\r\nabc", 400, "Bad Request" },
        { "CONNECT chunked", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, "Not Implemented" },
        { "DEL in the target", "GET /a\u007fb HTTP/1.1\r\n" + H + "\r\n", 400, "Bad Request" },
        { "control character in the query", "GET /a?b=\u0001 HTTP/1.1\r\n" + H + "\r\n", 400, "Bad Request" },
        { "separator in a header name", "GET /a HTTP/1.1\r\n" + H + "X(A): one\r\n\r\n", 400, "Bad Request" },
        { "quote in a header name", "GET /a HTTP/1.1\r\n" + H + "X\"A: one\r\n\r\n", 400, "Bad Request" },
        { "control character in a header name", "GET /a HTTP/1.1\r\n" + H + "X\u0001A: one\r\n\r\n", 400, "Bad Request" },
        { "URL and headers over 60 KiB", "GET /" + new string('u', 30 * 1024) + " HTTP/1.1\r\n" + H + "X-A: " + new string('v', 31 * 1024) + "\r\n\r\n", 431, "Request Header Fields Too Large" },
        { "URL over 60 KiB", "GET /" + new string('u', 60 * 1024) + " HTTP/1.1\r\n" + H + "\r\n", 431, "Request Header Fields Too Large" },
        { "ten connection tokens", "GET /a HTTP/1.1\r\n" + H + "Connection: a, b, c, d, e, f, g, h, i, j\r\n\r\n", 400, "Bad Request" },
        { "connection nominates x-forwarded-for", "GET /a HTTP/1.1\r\n" + H + "Connection: X-Forwarded-For\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n", 400, "Bad Request" },
        { "connection nominates a pseudo-header", "GET /a HTTP/1.1\r\n" + H + "Connection: :path\r\n\r\n", 400, "Bad Request" },
        { "connection nominates a long te", "GET /a HTTP/1.1\r\n" + H + "Connection: te\r\nTE: " + new string('t', 256) + "\r\n\r\n", 400, "Bad Request" },
        // Kestrel's own 400s, where Envoy's codec or connection manager also refuses (no body from Kestrel).
        { "HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n", 400, "" },
        { "invalid Host", "GET /a HTTP/1.1\r\nHost: a{b\r\n\r\n", 400, "" },
        { "obs-fold", "GET /a HTTP/1.1\r\n" + H + "X-A: one\r\n two\r\n\r\n", 400, "" },
        { "space before the colon", "GET /a HTTP/1.1\r\n" + H + "X-A : one\r\n\r\n", 400, "" },
        { "no colon", "GET /a HTTP/1.1\r\n" + H + "badheader\r\n\r\n", 400, "" },
        { "two content-lengths", "POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "" },
        { "content-length list", "POST /a HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nhello", 400, "" },
        { "negative content-length", "POST /a HTTP/1.1\r\n" + H + "Content-Length: -5\r\n\r\nhello", 400, "" },
        { "101 headers", "GET /a HTTP/1.1\r\n" + H + string.Concat(Enumerable.Range(0, 100).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431, "" },
    };

    [Theory]
    [MemberData(nameof(RefusedRequests))]
    public async Task Validate_RefusedRequest_AnswersAsEnvoyAndForwardsNothing(string name, string request, int status, string body)
    {
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(fixture.Port);

        var response = await connection.SendRawAsync(request);

        Assert.True(status == response.Status, $"{name}: {response.Status}");
        Assert.Equal(body, response.Body);
        if (body.Length > 0)
        {
            Assert.Equal("text/plain", response.Header("content-type"));
            Assert.Equal("envoy", response.Header("server"));
        }
        Assert.True(response.ClosesConnection, name);
        Assert.True(await connection.ClosedByServerAsync(), name);
        Assert.Equal(before, fixture.Upstream.Requests.Count);
        await AssertGatewayServesAsync();
    }

    [Theory]
    [InlineData("WebSocket", "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")]
    [InlineData("other protocol", "Connection: keep-alive, Upgrade\r\nUpgrade: foo/2\r\n")]
    public async Task Validate_UpgradeWithoutUpgradeConfigs_Answers403AndTunnelsNothing(string name, string headers)
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port]));
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendRawAsync("GET /ws HTTP/1.1\r\n" + H + headers + "\r\n");

        Assert.True(response.Status == 403, name);
        Assert.Equal(string.Empty, response.Body);
        Assert.Equal("0", response.Header("content-length"));
        Assert.True(response.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
        Assert.Equal(before, fixture.Upstream.Requests.Count);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_ws_on_non_ws_route", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.rq_total", 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Validate_UpgradeWithoutRoute_Answers404AndClosesConnection(bool allowed)
    {
        // Envoy answers 403 only on a route (conn_manager_impl.cc: hasCachedRoute()); without one the router answers 404,
        // after counting the upgrade when the connection manager allows it.
        string[] hcm = allowed ? ["upgrade_configs: [{ upgrade_type: websocket }]"] : [];
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port], hcmFields: hcm, routes: "- match: { prefix: \"/only\" }\n  route: { cluster: backend }"));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendRawAsync("GET /ws HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");

        Assert.Equal(404, response.Status);
        Assert.True(response.ClosesConnection);
        await gateway.AssertStatAsync("http.ingress_http.no_route", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_ws_on_non_ws_route", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_upgrades_total", allowed ? 1 : 0);
    }

    [Fact]
    public async Task Validate_ConnectWithoutConnectMatcher_Answers404AndClosesConnection()
    {
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(fixture.Port);

        var response = await connection.SendRawAsync("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");

        Assert.Equal(404, response.Status);
        Assert.Equal(string.Empty, response.Body);
        Assert.True(response.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
        Assert.Equal(before, fixture.Upstream.Requests.Count);
        await AssertGatewayServesAsync();
    }

    [Fact]
    public async Task Validate_ConnectAllowedWithoutConnectMatcher_Answers404AndClosesConnection()
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port], hcmFields: ["upgrade_configs: [{ upgrade_type: CONNECT }]"]));
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendRawAsync("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");

        Assert.Equal(404, response.Status);
        Assert.True(response.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
        Assert.Equal(before, fixture.Upstream.Requests.Count);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_upgrades_total", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_upgrades_active", 0);
    }

    [Theory]
    [InlineData("invalid chunk size", "zz\r\nhello\r\n0\r\n\r\n")]
    [InlineData("lone LF in a chunk extension", "5;a\nb\r\nhello\r\n0\r\n\r\n")]
    [InlineData("no CRLF after chunk data", "5\r\nhelloXX0\r\n\r\n")]
    public async Task Validate_MalformedChunkedBody_Answers400AndClosesConnection(string name, string body)
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port]));
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        // The headers are forwarded before the body is read (as Envoy streams them); the body then fails.
        var response = await connection.SendRawAsync("POST /chunks HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n" + body);

        Assert.True(response.Status == 400, name);
        Assert.Equal("Bad Request", response.Body);
        Assert.True(response.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
        var received = fixture.Upstream.Requests.Skip(before).ToList();
        Assert.True(received.Count <= 1 && received.All(r => r.BodyLength == -1), name);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_protocol_error", 1);
        Assert.Null(await gateway.StatAsync("cluster.backend.upstream_rq_5xx"));
    }

    [Fact]
    public async Task Validate_H2cUpgrade_IsStrippedAndProxiedAsAPlainRequest()
    {
        var received = await ForwardOneAsync("GET /h2c HTTP/1.1\r\n" + H + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");

        Assert.Equal("GET /h2c HTTP/1.1", received.RequestLine);
        Assert.Empty(received.Header("upgrade"));
        Assert.Empty(received.Header("http2-settings"));
        Assert.Empty(received.Header("connection"));
    }

    [Theory]
    [InlineData("connection: upgrade without upgrade", "Connection: upgrade\r\n")]
    [InlineData("upgrade without connection: upgrade", "Upgrade: websocket\r\n")]
    public async Task Validate_HalfAnUpgrade_IsAPlainRequest(string name, string headers)
    {
        var received = await ForwardOneAsync("GET /half HTTP/1.1\r\n" + H + headers + "\r\n");

        Assert.True(received.Header("upgrade").Count == 0, name);
        Assert.Empty(received.Header("connection"));
    }

    [Fact]
    public async Task Validate_ConnectionNominatedHeader_IsNotForwarded()
    {
        var received = await ForwardOneAsync("GET /nominated HTTP/1.1\r\n" + H + "Connection: X-Secret\r\nX-Secret: s\r\nX-Kept: k\r\n\r\n");

        Assert.Empty(received.Header("x-secret"));
        Assert.Equal("k", Assert.Single(received.Header("x-kept")));
    }

    [Theory]
    [InlineData("PURGE")]
    [InlineData("PROPFIND")]
    [InlineData("TRACE")]
    public async Task Validate_MethodEnvoyKnows_IsProxied(string method)
    {
        var received = await ForwardOneAsync(method + " /m HTTP/1.1\r\n" + H + "\r\n");

        Assert.Equal(method + " /m HTTP/1.1", received.RequestLine);
    }

    [Fact]
    public async Task Validate_EmptyHost_ReachesTheUpstreamWithOneHostHeader()
    {
        var received = await ForwardOneAsync("GET /empty-host HTTP/1.1\r\nHost:\r\n\r\n");

        Assert.Equal($"127.0.0.1:{fixture.Upstream.Port}", Assert.Single(received.Header("host")));
    }

    [Fact]
    public async Task Validate_ChunkedInAnyCase_IsProxied()
    {
        var received = await ForwardOneAsync("POST /chunked HTTP/1.1\r\n" + H + "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.Equal(5, received.BodyLength);
        Assert.Equal("hello", received.BodyStart);
    }

    [Fact]
    public async Task Validate_BareLineFeeds_AreAccepted()
    {
        var received = await ForwardOneAsync("GET /lf HTTP/1.1\nHost: h\nX-A: one\n\n");

        Assert.Equal("one", Assert.Single(received.Header("x-a")));
    }

    [Theory]
    [InlineData(9 * 1024, 0)]
    [InlineData(0, 40 * 1024)]
    [InlineData(30 * 1024, 29 * 1024)]
    public async Task Validate_UrlAndHeadersWithinEnvoysLimit_AreProxied(int urlLength, int headerLength)
    {
        var url = "/" + new string('u', urlLength);
        var header = headerLength == 0 ? string.Empty : "X-Big: " + new string('v', headerLength) + "\r\n";

        var received = await ForwardOneAsync("GET " + url + " HTTP/1.1\r\n" + H + header + "\r\n");

        Assert.Equal("GET " + url + " HTTP/1.1", received.RequestLine);
    }

    [Fact]
    public async Task Validate_MaxRequestHeadersKb_EachListenerHonoursItsOwn()
    {
        // The data listener allows 96 KiB, the admin listener keeps Envoy's 60 KiB; Kestrel's limits are server-wide.
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port], hcmFields: ["max_request_headers_kb: 96"]));
        var header = "X-Big: " + new string('v', 80 * 1024) + "\r\n";

        var proxied = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "GET /big-headers HTTP/1.1\r\n" + H + header + "\r\n");
        // Within Kestrel's limits for the line and the header block apart, over 96 KiB together.
        var tooLarge = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "GET /" + new string('u', 16 * 1024) + " HTTP/1.1\r\n" + H + header + "\r\n");
        var admin = await RawHttpClient.SendRawAsync(gateway.Gateway.AdminBoundEndPoint!.Port, "GET /ready HTTP/1.1\r\n" + H + header + "\r\n");

        Assert.Equal(200, proxied.Status);
        Assert.Equal(431, tooLarge.Status);
        Assert.Equal("Request Header Fields Too Large", tooLarge.Body);
        Assert.Equal(431, admin.Status);
        Assert.Equal("Request Header Fields Too Large", admin.Body);
    }

    [Fact]
    public async Task Validate_SmallMaxRequestHeadersKb_Answers431()
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port], hcmFields: ["max_request_headers_kb: 1"]));

        var small = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "GET /small HTTP/1.1\r\n" + H + "\r\n");
        var large = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "GET /" + new string('u', 1024) + " HTTP/1.1\r\n" + H + "\r\n");

        Assert.Equal(200, small.Status);
        Assert.Equal(431, large.Status);
        Assert.True(large.ClosesConnection);
    }

    [Fact]
    public async Task Validate_CodecError_IsCountedAsEnvoyCountsIt()
    {
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("backend", [fixture.Upstream.Port]));

        var response = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "GET /a HTTP/1.0\r\n\r\n");

        Assert.Equal(426, response.Status);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_protocol_error", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_response_before_rq_complete", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        await gateway.AssertStatAsync("http.ingress_http.rq_total", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_total", 0);
    }

    [Theory]
    [InlineData("GET /ready HTTP/1.0\r\n\r\n", 426, "Upgrade Required")]
    [InlineData("get /ready HTTP/1.1\r\nHost: h\r\n\r\n", 400, "Bad Request")]
    [InlineData("POST /ready HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "Not Implemented")]
    public async Task Validate_AdminListener_AppliesTheSameCodecChecks(string request, int status, string body)
    {
        var admin = fixture.Gateway.Gateway.AdminBoundEndPoint!.Port;
        await using var connection = await RawConnection.OpenAsync(admin);

        var response = await connection.SendRawAsync(request);

        Assert.Equal(status, response.Status);
        Assert.Equal(body, response.Body);
        Assert.True(response.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
        var ready = await RawHttpClient.SendRawAsync(admin, "GET /ready HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, ready.Status);
    }

    [Fact]
    public void IsKnownMethod_IsEnvoysListCaseSensitive()
    {
        Assert.True(DownstreamRequestValidator.IsKnownMethod("MSEARCH"));
        Assert.True(DownstreamRequestValidator.IsKnownMethod(new string("GET".ToCharArray())));
        Assert.False(DownstreamRequestValidator.IsKnownMethod("M-SEARCH"));
        Assert.False(DownstreamRequestValidator.IsKnownMethod("Get"));
        Assert.False(DownstreamRequestValidator.IsKnownMethod(string.Empty));
    }

    /// <summary>Sends one request that must be proxied: 200 from the upstream, exactly one request there, connection kept.</summary>
    private async Task<RecordedRequest> ForwardOneAsync(string request)
    {
        var before = fixture.Upstream.Requests.Count;
        await using var connection = await RawConnection.OpenAsync(fixture.Port);

        var response = await connection.SendRawAsync(request);

        Assert.Equal(200, response.Status);
        var requests = fixture.Upstream.Requests;
        Assert.Equal(before + 1, requests.Count);
        Assert.Equal(requests[before].RequestLine, response.Body);
        // The connection stays usable: a second request on it is answered too.
        Assert.Equal(200, (await connection.SendRawAsync("GET /next HTTP/1.1\r\n" + H + "\r\n")).Status);
        return requests[before];
    }

    private async Task AssertGatewayServesAsync()
    {
        var before = fixture.Upstream.Requests.Count;
        var response = await RawHttpClient.SendRawAsync(fixture.Port, "GET /after HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n");
        Assert.Equal(200, response.Status);
        Assert.Equal(before + 1, fixture.Upstream.Requests.Count);
    }
}

using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The path the router matches is the path the upstream receives, in every normalization mode: raw requests (a socket,
/// so nothing is normalized on the way in) against the in-process gateway, whose listener has a <c>/blocked</c> route
/// (direct_response 403) in front of a catch-all route to a raw upstream that records each request line byte for byte.
/// </summary>
public sealed class PathNormalizationTests
{
    private const string FailedNormalization = "http.ingress_http.downstream_rq_failed_path_normalization";
    private const string Redirected = "http.ingress_http.downstream_rq_redirected_with_normalized_path";

    private static readonly string[] BypassAttempts = ["/x/../blocked", "/x/%2e%2e/blocked", "/./blocked", "/%62locked", "/x/..;p/blocked", "/x/%2E%2E/blocked"];

    private const string Routes = """
        - match: { prefix: "/blocked" }
          direct_response: { status: 403 }
        - match: { prefix: "/api/" }
          route: { cluster: upstream, prefix_rewrite: "/v2/" }
        - match: { prefix: "/" }
          route: { cluster: upstream }
        """;

    private sealed class Setup : IAsyncDisposable
    {
        private Setup(RecordingUpstream upstream, InProcessGateway gateway)
        {
            Upstream = upstream;
            Gateway = gateway;
        }

        public RecordingUpstream Upstream { get; }

        public InProcessGateway Gateway { get; }

        public int Port => Gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        public static async Task<Setup> StartAsync(params string[] hcmFields)
        {
            var upstream = RecordingUpstream.Start();
            var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("upstream", [upstream.Port], hcmFields: hcmFields, routes: Routes));
            return new Setup(upstream, gateway);
        }

        public Task<RawConnection> ConnectAsync() => RawConnection.OpenAsync(Port);

        public Task<RawResponse> SendAsync(string target, string method = "GET", string? host = "gateway.test", string extraHeaders = "")
            => RawHttpClient.SendAsync(Port, target, method, host, extraHeaders);

        /// <summary>Sends <paramref name="target"/> and asserts it reached the upstream as <paramref name="upstreamTarget"/>.</summary>
        public async Task<RecordedRequest> AssertForwardedAsync(string target, string upstreamTarget)
        {
            var before = Upstream.Requests.Count;
            var response = await SendAsync(target);
            Assert.True(response.Status == 200, $"{target}: status {response.Status}");
            var requests = Upstream.Requests;
            Assert.Equal(before + 1, requests.Count);
            Assert.Equal($"GET {upstreamTarget} HTTP/1.1", requests[^1].RequestLine);
            return requests[^1];
        }

        /// <summary>Sends <paramref name="target"/> and asserts the gateway answered <paramref name="status"/> itself.</summary>
        public async Task<RawResponse> AssertAnsweredAsync(string target, int status, string method = "GET", string extraHeaders = "")
        {
            var before = Upstream.Requests.Count;
            var response = await SendAsync(target, method, extraHeaders: extraHeaders);
            Assert.True(response.Status == status, $"{target}: status {response.Status}, expected {status}");
            Assert.Equal(before, Upstream.Requests.Count);
            return response;
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task DefaultMode_BypassAttempts_ForwardedExactlyAsMatched()
    {
        // Envoy without normalize_path matches and forwards the raw path: "/x/../blocked" is not under "/blocked",
        // and it is that very path, not Kestrel's decoded "/blocked", that the upstream receives.
        await using var setup = await Setup.StartAsync();
        foreach (var target in BypassAttempts)
        {
            await setup.AssertForwardedAsync(target, target);
        }
        await setup.AssertAnsweredAsync("/blocked", 403);
        await setup.AssertAnsweredAsync("/blocked/x?y=1", 403);
    }

    [Fact]
    public async Task DefaultMode_EscapesBackslashesSlashesAndQuery_ForwardedByteForByte()
    {
        await using var setup = await Setup.StartAsync();
        string[] targets =
        [
            "/a%2Fb", "/a%2fb%5Cc%5c", "/a\\b", "//a//b/", "/a%252F", "/a%zz%", "/%41%7e",
            "/q?x=%2F&y=/../&z=a%20b&w=%E2%82%AC", "/q?", "/?a=b?c", "/a;p=1/b",
        ];
        foreach (var target in targets)
        {
            await setup.AssertForwardedAsync(target, target);
        }
    }

    [Fact]
    public async Task DefaultMode_Fragment_Rejected400AndConnectionClosed()
    {
        await using var setup = await Setup.StartAsync();
        await using (var connection = await setup.ConnectAsync())
        {
            // Envoy closes an HTTP/1 connection after a 400 local reply.
            var response = await connection.SendAsync("/a#b");
            Assert.Equal(400, response.Status);
            Assert.Equal("close", response.Header("connection"));
            Assert.Equal("envoy", response.Header("server"));
            Assert.Equal(string.Empty, response.Body);
            Assert.True(await connection.ClosedByServerAsync());
        }
        await setup.AssertAnsweredAsync("/a?x=1#b", 400);
        Assert.Empty(setup.Upstream.Requests);
        await setup.Gateway.AssertStatAsync(FailedNormalization, 2);
        await setup.Gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 2);
        await setup.AssertForwardedAsync("/after", "/after");
    }

    [Fact]
    public async Task DefaultMode_EscapedNul_NeverForwarded()
    {
        // Kestrel refuses a path that decodes to NUL itself (Envoy forwards it without normalize_path; see compatibility.md).
        await using var setup = await Setup.StartAsync();
        await setup.AssertAnsweredAsync("/a%00b", 400);
    }

    [Fact]
    public async Task AbsoluteForm_AuthorityAndPathTakenFromTarget()
    {
        await using var setup = await Setup.StartAsync();
        var before = setup.Upstream.Requests.Count;
        var response = await setup.SendAsync("http://Example.com:8080/x/../blocked?q=%2F", host: "other.test");
        Assert.Equal(200, response.Status);
        var request = setup.Upstream.Requests[before];
        Assert.Equal("GET /x/../blocked?q=%2F HTTP/1.1", request.RequestLine);
        Assert.Equal(["Example.com:8080"], request.Header("host"));

        response = await setup.SendAsync("http://example.com", host: "example.com");
        Assert.Equal(200, response.Status);
        Assert.Equal("GET / HTTP/1.1", setup.Upstream.Requests[^1].RequestLine);

        Assert.Equal(403, (await setup.SendAsync("http://example.com/blocked", host: "other.test")).Status);
        Assert.Equal(before + 2, setup.Upstream.Requests.Count);
    }

    [Fact]
    public async Task AsteriskForm_NotRelative_404()
    {
        await using var setup = await Setup.StartAsync();
        var response = await setup.AssertAnsweredAsync("*", 404, method: "OPTIONS");
        Assert.Equal(string.Empty, response.Body);
        await setup.Gateway.AssertStatAsync("http.ingress_http.downstream_rq_non_relative_path", 1);
    }

    [Fact]
    public async Task NormalizePath_BypassAttempts_MatchTheBlockedRoute()
    {
        await using var setup = await Setup.StartAsync("normalize_path: true");
        foreach (var target in BypassAttempts)
        {
            await setup.AssertAnsweredAsync(target, 403);
        }
        await setup.Gateway.AssertStatAsync(FailedNormalization, 0);
    }

    [Fact]
    public async Task NormalizePath_ForwardsTheNormalizedPathAndTheQueryAsSent()
    {
        await using var setup = await Setup.StartAsync("normalize_path: true");
        await setup.AssertForwardedAsync("/a/./b/../c?q=/../%2e&r=%41", "/a/c?q=/../%2e&r=%41");
        await setup.AssertForwardedAsync("/a\\b", "/a/b");
        await setup.AssertForwardedAsync("/a%2Fb%5c", "/a%2Fb%5c");
        await setup.AssertForwardedAsync("/%7e%41%2d", "/~A-");
        await setup.AssertForwardedAsync("//a//b", "//a//b");
        await setup.AssertForwardedAsync("/plain/path.txt?x", "/plain/path.txt?x");
        await setup.AssertForwardedAsync("/private/..%2Fpublic%5c", "/private/..%2Fpublic%5c");
        await setup.AssertAnsweredAsync("/a#b", 400);
        await setup.Gateway.AssertStatAsync(FailedNormalization, 1);
    }

    [Fact]
    public async Task MergeSlashes_AdjacentSlashesCollapsedBeforeRouting()
    {
        await using var setup = await Setup.StartAsync("merge_slashes: true");
        await setup.AssertAnsweredAsync("//blocked", 403);
        await setup.AssertForwardedAsync("/a//b///c/?x=//", "/a/b/c/?x=//");
        // Without normalize_path the dot segments stay.
        await setup.AssertForwardedAsync("/x/../blocked", "/x/../blocked");
    }

    [Fact]
    public async Task NormalizeAndMerge_SlashesMergedAfterNormalization()
    {
        await using var setup = await Setup.StartAsync("normalize_path: true", "merge_slashes: true");
        await setup.AssertAnsweredAsync("//x/..//blocked", 403);
        await setup.AssertForwardedAsync("/a/.//b\\\\c", "/a/b/c");
    }

    [Fact]
    public async Task EscapedSlashesReject_400AndCounted()
    {
        await using var setup = await Setup.StartAsync("path_with_escaped_slashes_action: REJECT_REQUEST");
        await setup.AssertAnsweredAsync("/a%2Fb", 400);
        await setup.AssertAnsweredAsync("/a%5cb", 400);
        // The query is not the path.
        await setup.AssertForwardedAsync("/a/b?x=%2F", "/a/b?x=%2F");
        await setup.Gateway.AssertStatAsync(FailedNormalization, 2);
    }

    [Fact]
    public async Task EscapedSlashesRedirect_307ToTheNormalizedPath()
    {
        await using var setup = await Setup.StartAsync("path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT", "normalize_path: true");
        await using (var connection = await setup.ConnectAsync())
        {
            var response = await connection.SendAsync("/x%2F..%2Fblocked?q=%2F");
            Assert.Equal(307, response.Status);
            Assert.Equal("/blocked?q=%2F", response.Header("location"));
            Assert.Equal(string.Empty, response.Body);
            // Not a 400: the connection stays open for the next request.
            Assert.Null(response.Header("connection"));
            Assert.Equal(403, (await connection.SendAsync("/blocked?q=%2F")).Status);
        }
        Assert.Empty(setup.Upstream.Requests);
        await setup.Gateway.AssertStatAsync(Redirected, 1);

        // A path without escaped slashes is normalized and forwarded, not redirected.
        await setup.AssertForwardedAsync("/a/../b", "/b");

        // gRPC clients cannot follow a redirect: 400, which a gRPC request gets as a trailers-only reply (grpc-status 13, INTERNAL).
        var grpc = await setup.AssertAnsweredAsync("/a%2fb", 200, method: "POST", extraHeaders: "Content-Type: application/grpc\r\nContent-Length: 0\r\n");
        Assert.Equal("13", grpc.Header("grpc-status"));
        await setup.Gateway.AssertStatAsync(FailedNormalization, 1);
        await setup.Gateway.AssertStatAsync(Redirected, 1);
    }

    [Fact]
    public async Task EscapedSlashesRedirect_WithoutNormalization_LocationKeepsDotSegments()
    {
        // Envoy's own integration case (PathWithEscapedSlashesRedirected).
        await using var setup = await Setup.StartAsync("path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT");
        var response = await setup.AssertAnsweredAsync("/private%2f../%2e%5Cpublic", 307);
        Assert.Equal("/private/../%2e\\public", response.Header("location"));
    }

    [Fact]
    public async Task EscapedSlashesForward_UnescapedThenNormalized()
    {
        await using var setup = await Setup.StartAsync("path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD", "normalize_path: true");
        await setup.AssertAnsweredAsync("/x%2F..%2Fblocked", 403);
        await setup.AssertForwardedAsync("/a%2Fb", "/a/b");
        await setup.AssertForwardedAsync("/private/..%2Fpublic%5c%2e%2Fabc", "/public/abc");
        await setup.Gateway.AssertStatAsync(Redirected, 0);
    }

    [Fact]
    public async Task EscapedSlashesForward_WithoutNormalization_BackslashForwarded()
    {
        await using var setup = await Setup.StartAsync("path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD");
        await setup.AssertForwardedAsync("/a%5Cb%2f..", "/a\\b/..");
    }

    [Fact]
    public async Task PrefixRewrite_DefaultMode_RewritesTheRawPath()
    {
        await using var setup = await Setup.StartAsync();
        var request = await setup.AssertForwardedAsync("/api/a%2Fb/../c?q=%2F", "/v2/a%2Fb/../c?q=%2F");
        Assert.Equal(["/api/a%2Fb/../c?q=%2F"], request.Header("x-envoy-original-path"));
    }

    [Fact]
    public async Task PrefixRewrite_NormalizePath_RewritesTheNormalizedPath()
    {
        await using var setup = await Setup.StartAsync("normalize_path: true");
        var request = await setup.AssertForwardedAsync("/x/../api/y/./z?q=/..", "/v2/y/z?q=/..");
        Assert.Equal(["/api/y/z?q=/.."], request.Header("x-envoy-original-path"));
    }
}

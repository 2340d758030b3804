using System.Net;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Translation;

namespace Gateway.Tests.Formatting;

/// <summary>
/// <c>%DOWNSTREAM_REMOTE_ADDRESS%</c> and its kin after the connection manager decided the trusted client address
/// (Envoy's mutateRequestHeaders, then setDownstreamRemoteAddress): an address taken from <c>x-forwarded-for</c> has
/// port 0, the connection's peer keeps its port, and <c>%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%</c> is always the peer.
/// </summary>
public class DownstreamRemoteAddressTests
{
    private const string Format = "%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%|%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%|%DOWNSTREAM_DIRECT_REMOTE_PORT%";

    private const string Peer = "10.0.0.1:51000|10.0.0.1|51000|10.0.0.1:51000|51000";

    private static ConnectionManagerPlan Plan(bool useRemoteAddress, uint trustedHops)
        => new("ingress_http", "envoy", ServerHeaderTransformation.Overwrite, GenerateRequestId: true, PreserveExternalRequestId: false,
            AlwaysSetRequestIdInResponse: false, SuppressEnvoyHeaders: false, RouteConfigName: "local", Routes: [])
        {
            UseRemoteAddress = useRemoteAddress,
            XffNumTrustedHops = trustedHops,
        };

    [Theory]
    // Without use_remote_address: the last x-forwarded-for entry after skipping the trusted hops, when it is an IP.
    [InlineData(false, 0u, null, Peer)]
    [InlineData(false, 0u, "192.0.2.7", "192.0.2.7:0|192.0.2.7|0|10.0.0.1:51000|51000")]
    [InlineData(false, 0u, "198.51.100.1, 192.0.2.7", "192.0.2.7:0|192.0.2.7|0|10.0.0.1:51000|51000")]
    [InlineData(false, 1u, "198.51.100.1, 192.0.2.7", "198.51.100.1:0|198.51.100.1|0|10.0.0.1:51000|51000")]
    [InlineData(false, 1u, "192.0.2.7", Peer)]
    [InlineData(false, 0u, "2001:db8::7", "[2001:db8::7]:0|2001:db8::7|0|10.0.0.1:51000|51000")]
    [InlineData(false, 0u, "not-an-address", Peer)]
    [InlineData(false, 0u, "192.0.2.7:8080", Peer)]
    [InlineData(false, 0u, "", Peer)]
    // With use_remote_address: the peer, unless trusted hops name the client (read before the peer is appended).
    [InlineData(true, 0u, null, Peer)]
    [InlineData(true, 0u, "192.0.2.7", Peer)]
    [InlineData(true, 1u, null, Peer)]
    [InlineData(true, 1u, "192.0.2.7", "192.0.2.7:0|192.0.2.7|0|10.0.0.1:51000|51000")]
    [InlineData(true, 1u, "198.51.100.1, 192.0.2.7", "192.0.2.7:0|192.0.2.7|0|10.0.0.1:51000|51000")]
    [InlineData(true, 2u, "198.51.100.1, 192.0.2.7", "198.51.100.1:0|198.51.100.1|0|10.0.0.1:51000|51000")]
    [InlineData(true, 1u, "garbage", Peer)]
    public void Format_AfterMutateRequestHeaders_PrintsTheTrustedClientAddress(bool useRemoteAddress, uint trustedHops, string? forwardedFor, string expected)
    {
        var f = new FormatterFixture();
        if (forwardedFor is not null)
        {
            f.Http.Request.Headers[RequestHeaderMutation.ForwardedFor] = forwardedFor;
        }

        var origin = RequestHeaderMutation.MutateRequestHeaders(f.Http, Plan(useRemoteAddress, trustedHops), []);
        f.Info.ForwardedRemoteAddress = origin.ForwardedRemoteAddress;

        Assert.Equal(expected, f.Format(Format));
    }

    [Fact]
    public void Format_ConnectionStreamInfo_PrintsThePeer()
    {
        var f = new FormatterFixture();
        var connection = RequestStreamInfo.ForConnection(f.Time, 1, null);
        var context = new Gateway.Formatting.FormatterContext(null, connection, null, null, null, f.Http.Connection, AccessLogType.TcpConnectionEnd);

        Assert.Equal(Peer, f.Text(Format).Format(context));
    }

    [Fact]
    public void MutateRequestHeaders_ClientFromXff_IsMarkedForwarded()
    {
        var f = new FormatterFixture();
        f.Http.Request.Headers[RequestHeaderMutation.ForwardedFor] = "192.0.2.7";

        var origin = RequestHeaderMutation.MutateRequestHeaders(f.Http, Plan(useRemoteAddress: false, trustedHops: 0), []);

        Assert.True(origin.FromForwardedFor);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), origin.ForwardedRemoteAddress);
    }
}

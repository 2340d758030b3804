using System.Text;
using Gateway.Grpc;

namespace Gateway.Tests.Grpc;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/grpcx", false)]
    [InlineData("Application/grpc", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsGrpc_ContentType_AsEnvoysHasGrpcContentType(string? contentType, bool expected)
        => Assert.Equal(expected, GrpcProtocol.IsGrpc(contentType));

    [Theory]
    [InlineData(400, 13)]
    [InlineData(401, 16)]
    [InlineData(403, 7)]
    [InlineData(404, 12)]
    [InlineData(429, 14)]
    [InlineData(502, 14)]
    [InlineData(503, 14)]
    [InlineData(504, 14)]
    [InlineData(408, 2)]
    [InlineData(500, 2)]
    [InlineData(200, 2)]
    public void HttpToGrpcStatus_HttpStatus_EnvoysMapping(int http, int grpc)
        => Assert.Equal(grpc, GrpcProtocol.HttpToGrpcStatus(http));

    [Theory]
    [InlineData(0, 200)]
    [InlineData(1, 499)]
    [InlineData(3, 400)]
    [InlineData(4, 504)]
    [InlineData(5, 404)]
    [InlineData(7, 403)]
    [InlineData(8, 429)]
    [InlineData(12, 501)]
    [InlineData(14, 503)]
    [InlineData(16, 401)]
    [InlineData(17, 500)]
    [InlineData(-1, 500)]
    public void GrpcToHttpStatus_GrpcStatus_EnvoysMapping(int grpc, int http)
        => Assert.Equal(http, GrpcProtocol.GrpcToHttpStatus(grpc));

    [Theory]
    [InlineData("no healthy upstream", "no healthy upstream")]
    [InlineData("100%", "100%25")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("tilde~", "tilde%7E")]
    [InlineData("é", "%C3%A9")]
    [InlineData("", "")]
    public void EncodeMessage_Text_PercentEncodedAsEnvoy(string text, string expected)
        => Assert.Equal(expected, GrpcProtocol.EncodeMessage(Encoding.UTF8.GetBytes(text)));
}

using Gateway.Filters.Csrf;

namespace Gateway.Tests.Csrf;

/// <summary>The host and port Envoy's CSRF filter takes from Origin, Referer and Host (http_parser's URL rules).</summary>
public class UrlAuthorityTests
{
    [Theory]
    [InlineData("http://example.com", "example.com")]
    [InlineData("https://example.com:8443", "example.com:8443")]
    [InlineData("https://example.com/path?q=1#f", "example.com")]
    [InlineData("http://user:secret@example.com:80/", "example.com:80")]
    [InlineData("http://[::1]:8080/x", "[::1]:8080")]
    [InlineData("http://under_score.example", "under_score.example")]
    [InlineData("https://example.com?x", "example.com")]
    public void TryGetHostAndPort_AbsoluteUrl_ReturnsTheAuthority(string url, string expected)
    {
        Assert.True(UrlAuthority.TryGetHostAndPort(url, out var hostAndPort));
        Assert.Equal(expected, hostAndPort.ToString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("example.com")]
    [InlineData("http:/example.com")]
    [InlineData("http://")]
    [InlineData("http://:80")]
    [InlineData("http://example.com:")]
    [InlineData("http://example.com:99999")]
    [InlineData("http://exa mple.com")]
    [InlineData("http://example.com/a b")]
    [InlineData("1http://example.com")]
    public void TryGetHostAndPort_NotAnAbsoluteUrl_IsFalse(string url)
        => Assert.False(UrlAuthority.TryGetHostAndPort(url, out _));
}

using Gateway.Configuration;
using Gateway.Routing;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

public class RouteTableVirtualHostTests
{
    private static readonly RouteTable<string> AllKinds = Table(
        HostNamed("exact", "example.com", "www.example.com"),
        HostNamed("exact-port", "example.com:8080"),
        HostNamed("suffix", "*.example.com"),
        HostNamed("long-suffix", "*-bar.example.com"),
        HostNamed("prefix", "api.*"),
        HostNamed("long-prefix", "api.internal.*"),
        HostNamed("default", "*"));

    [Theory]
    [InlineData("example.com", "exact")]
    [InlineData("EXAMPLE.Com", "exact")] // case-insensitive
    [InlineData("www.example.com", "exact")] // exact beats *.example.com
    [InlineData("example.com:8080", "exact-port")] // the port is part of the value matched
    [InlineData("example.com:9090", "default")] // no retry without the port
    [InlineData("foo.example.com", "suffix")]
    [InlineData("a.b.example.com", "suffix")]
    [InlineData("FOO.EXAMPLE.COM", "suffix")]
    [InlineData("foo.example.com:8080", "default")] // ".example.com" is not a suffix of a value with a port
    [InlineData("foo-bar.example.com", "long-suffix")] // longest suffix first
    [InlineData(".example.com", "default")] // the '*' must cover at least one character
    [InlineData("-bar.example.com", "suffix")]
    [InlineData("api.foo", "prefix")]
    [InlineData("api.foo:8080", "prefix")] // prefix wildcards see the port as part of the tail
    [InlineData("api.internal.x", "long-prefix")] // longest prefix first
    [InlineData("api.foo.example.com", "suffix")] // suffix wildcards are tried before prefix wildcards
    [InlineData("api.", "default")]
    [InlineData("other.org", "default")]
    [InlineData("", "default")]
    public void FindVirtualHost_DomainKinds_FollowEnvoyPrecedence(string host, string expected)
    {
        var index = AllKinds.FindVirtualHost(host);

        Assert.Equal(expected, AllKinds.GetVirtualHost(index).Name);
        Assert.Equal(expected, AllKinds.Run("/", host));
    }

    [Fact]
    public void FindVirtualHost_NoDefaultAndNoMatch_ReturnsMinusOneAndMatchReturnsNull()
    {
        var table = Table(HostNamed("exact", "example.com"));

        Assert.Equal(-1, table.FindVirtualHost("other.com"));
        var target = table.Match("other.com", "GET", "http", "/", new Microsoft.AspNetCore.Http.HeaderDictionary(), out var vhost);
        Assert.Null(target);
        Assert.Equal(-1, vhost);
    }

    [Fact]
    public void FindVirtualHost_MissingAuthorityWithDomains_ReturnsMinusOne()
    {
        var table = Table(HostNamed("exact", "example.com"), HostNamed("default", "*"));

        Assert.Equal(-1, table.FindVirtualHost(null));
    }

    [Fact]
    public void FindVirtualHost_MissingAuthorityWithOnlyDefault_ReturnsDefault()
    {
        // Envoy's fast path: only a '*' virtual host means no authority is needed.
        var table = Table(HostNamed("only", "*"));

        Assert.Equal(0, table.FindVirtualHost(null));
        Assert.Equal("only", table.Run("/", host: null));
    }

    [Fact]
    public void FindVirtualHost_UpperCaseDomainInConfig_MatchesLowerCaseHost()
    {
        var table = Table(HostNamed("a", "API.Example.COM"), HostNamed("b", "*.Example.ORG"));

        Assert.Equal("a", table.Run("/", "api.example.com"));
        Assert.Equal("b", table.Run("/", "x.example.org"));
    }

    [Fact]
    public void FindVirtualHost_VeryLongHost_IsLowerCasedAndFound()
    {
        var label = new string('A', 300);
        var table = Table(HostNamed("long", "*.example.com"));

        Assert.Equal("long", table.Run("/", label + ".example.com"));
    }

    [Fact]
    public void FindVirtualHost_NoVirtualHosts_ReturnsMinusOne()
    {
        var table = Table();

        Assert.Equal(-1, table.FindVirtualHost("example.com"));
        Assert.Null(table.Run("/"));
    }

    private static VirtualHost HostNamed(string name, params string[] domains)
        => Host(name, domains, Route(name, new RouteMatch { Prefix = "/" }));
}

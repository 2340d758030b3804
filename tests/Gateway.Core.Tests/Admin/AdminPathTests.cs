using Gateway.Admin;

namespace Gateway.Tests.Admin;

/// <summary><see cref="AdminPath"/>: Envoy's admin path normalization (RFC 3986 as path_utility.cc does it, then merge_slashes).</summary>
public class AdminPathTests
{
    [Theory]
    [InlineData("/stats", "/stats", "")]
    [InlineData("/stats?filter=a%2Fb", "/stats", "filter=a%2Fb")]
    [InlineData("/", "/", "")]
    [InlineData("/stats/", "/stats/", "")]
    [InlineData("/stats/../quitquitquit", "/quitquitquit", "")]
    [InlineData("/a//../b", "/a/b", "")] // normalized first, then slashes merged, as Envoy orders them
    [InlineData("///stats//prometheus", "/stats/prometheus", "")]
    [InlineData("/../../ready", "/ready", "")]
    [InlineData("/a/.", "/a/", "")]
    [InlineData("/%2E%2e/%73tats", "/stats", "")]
    [InlineData("/stats%2Fprometheus", "/stats%2Fprometheus", "")]
    [InlineData(@"/x\..\ready", "/ready", "")]
    [InlineData("http://host:9901/ready?x=1", "/ready", "x=1")]
    [InlineData("http://host:9901?x=1", "/", "x=1")]
    [InlineData("*", "*", "")]
    public void Split_RawTarget_GivesEnvoysNormalizedPathAndTheRawQuery(string target, string path, string query)
    {
        Assert.Equal((path, query), AdminPath.Split(target));
    }
}

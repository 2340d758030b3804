using Gateway.Admin;

namespace Gateway.Tests.Admin;

/// <summary><see cref="AdminPath"/>: Envoy's admin connection manager's path handling (normalize_path and merge_slashes on).</summary>
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
    public void TrySplit_Path_GivesEnvoysNormalizedPathAndTheRawQuery(string target, string path, string query)
    {
        Assert.True(AdminPath.TrySplit(target, out var actualPath, out var actualQuery));
        Assert.Equal((path, query), (actualPath, actualQuery));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("")]
    [InlineData("/stats#x")]
    public void TrySplit_PathTheConnectionManagerRefuses_IsFalse(string target)
    {
        Assert.False(AdminPath.TrySplit(target, out _, out _));
    }
}

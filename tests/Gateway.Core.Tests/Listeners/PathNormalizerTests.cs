using Gateway.Configuration;
using Gateway.Listeners;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The path normalizer against the cases of Envoy's test/common/http/path_utility_test.cc and its header integration
/// tests (written here as tables), plus the bypass forms of issue 9.
/// </summary>
public sealed class PathNormalizerTests
{
    [Theory]
    [InlineData("/xyz")]
    [InlineData("/x/y/z")]
    [InlineData("/A/B/C")]
    [InlineData("/a/%2F%2f/c")]
    [InlineData("/%c0%af")]
    [InlineData("/%5c%25")]
    [InlineData("/file.txt")]
    [InlineData("/a..b/.c/..d/c.")]
    [InlineData("/a%zz%")]
    [InlineData("/a;b=c/d?x=/../%41#")]
    public void TryCanonicalize_AlreadyNormal_SameInstance(string path)
    {
        Assert.True(PathNormalizer.TryCanonicalize(path, out var canonical));
        Assert.Same(path, canonical);
    }

    [Theory]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/b/./c", "/a/b/c")]
    [InlineData("a/b/../c", "/a/c")]
    [InlineData("/a/b/../../../../c", "/c")]
    [InlineData("/a/..\\c", "/c")]
    [InlineData("/a/b/%2E%2E/c", "/a/c")]
    [InlineData("/a/b/%2e%2e/c", "/a/c")]
    [InlineData("/a/b/.%2e/c", "/a/c")]
    [InlineData("/xyz/..;foo=bar/abc", "/abc")]
    [InlineData("/..;foo=bar/abc", "/abc")]
    [InlineData("/xyz/..;foo=bar", "/")]
    [InlineData("/xyz/.;foo=bar/abc", "/xyz/abc")]
    [InlineData("/.;foo=bar/abc", "/abc")]
    [InlineData("/xyz/.;foo=bar", "/xyz/")]
    [InlineData("/xyz/..;foo=bar/.;v1=2,v2=3/abc", "/abc")]
    [InlineData("/..;foo=bar/abc/.;mmm", "/abc/")]
    [InlineData("/.;aaa/..;foo=bar/abc/.;mmm", "/abc/")]
    [InlineData("/xyz/..;foo=bar/.;fff=zzz", "/")]
    [InlineData("/xyz/..;foo=bar/.;fff=zzz?blah=woops", "/?blah=woops")]
    [InlineData("/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query", "/remain;blah-bluh?query")]
    [InlineData("/x/../blocked", "/blocked")]
    [InlineData("/x/%2e%2e/blocked", "/blocked")]
    [InlineData("/./blocked", "/blocked")]
    [InlineData("/%62locked", "/blocked")]
    [InlineData("/..", "/")]
    [InlineData("/.", "/")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/a/..", "/")]
    [InlineData("/a/%2e", "/a/")]
    [InlineData("//a/../b", "//b")]
    [InlineData("/a\\b", "/a/b")]
    [InlineData("/%41%5a%61%7a%30%39%2D%2e%5F%7E", "/AZaz09-._~")]
    [InlineData("/%21%24%3B%3d%2F%25%5C", "/%21%24%3B%3d%2F%25%5C")]
    [InlineData("/a b\"<>^`{|}\x7f", "/a%20b%22%3C%3E%5E%60%7B%7C%7D%7F")]
    [InlineData("/\x01", "/%01")]
    [InlineData("/caf\u00e9", "/caf%C3%A9")]
    [InlineData("/a/../b?x=/../%2e&y=%41", "/b?x=/../%2e&y=%41")]
    [InlineData("/%%300", "/%2500")]
    [InlineData("/%%30%30", "/%2500")]
    [InlineData("/%3%30", "/%2530")]
    public void TryCanonicalize_NotNormal_Normalized(string path, string expected)
    {
        Assert.True(PathNormalizer.TryCanonicalize(path, out var canonical));
        Assert.Equal(expected, canonical);
    }

    [Theory]
    [InlineData("/xyz/.%00../abc")]
    [InlineData("/xyz/%00.%00./abc")]
    [InlineData("/xyz/AAAAA%%0000/abc")]
    [InlineData("/a%00")]
    [InlineData("/a\0b")]
    public void TryCanonicalize_Invalid_False(string path)
    {
        Assert.False(PathNormalizer.TryCanonicalize(path, out _));
    }

    [Fact]
    public void TryCanonicalize_UnpairedSurrogate_False()
    {
        // Built here: a lone surrogate does not survive xunit's serialization of InlineData.
        Assert.False(PathNormalizer.TryCanonicalize("/a" + (char)0xD800 + "b", out _));
        Assert.True(PathNormalizer.TryCanonicalize("/" + char.ConvertFromUtf32(0x1F600), out var emoji));
        Assert.Equal("/%F0%9F%98%80", emoji);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("a//b/c", "a/b/c")]
    [InlineData("/a//b/c/", "/a/b/c/")]
    [InlineData("a//b/c/", "a/b/c/")]
    [InlineData("/a", "/a")]
    [InlineData("//a/b/c", "/a/b/c")]
    [InlineData("/a//b/c", "/a/b/c")]
    [InlineData("/a/b/c//", "/a/b/c/")]
    [InlineData("/a///b/c", "/a/b/c")]
    [InlineData("/a////b/c", "/a/b/c")]
    [InlineData("/a//b?a=///c", "/a/b?a=///c")]
    [InlineData("/a//b?", "/a/b?")]
    [InlineData("//a/?b", "/a/?b")]
    [InlineData("//", "//")]
    public void MergeSlashes_EnvoyCases(string path, string expected)
    {
        Assert.Equal(expected, PathNormalizer.MergeSlashes(path));
    }

    [Fact]
    public void MergeSlashes_NothingToMerge_SameInstance()
    {
        var path = "/a/b?x=//";
        Assert.Same(path, PathNormalizer.MergeSlashes(path));
    }

    [Theory]
    [InlineData("", "", false)]
    [InlineData("%2f%2F", "//", true)]
    [InlineData("/a%2Fb%2fc/", "/a/b/c/", true)]
    [InlineData("%2b", "%2b", false)]
    [InlineData("/a/b/c", "/a/b/c", false)]
    [InlineData("%2", "%2", false)]
    [InlineData("%", "%", false)]
    [InlineData("/abc%2", "/abc%2", false)]
    [InlineData("foo%", "foo%", false)]
    [InlineData("/a%2F", "/a/", true)]
    [InlineData("%2fa/", "/a/", true)]
    [InlineData("%%2fa/", "%/a/", true)]
    [InlineData("%2%2fa/", "%2/a/", true)]
    [InlineData("%5c%5C", "\\\\", true)]
    [InlineData("/a%5Cb%5cc/", "/a\\b\\c/", true)]
    [InlineData("/a%5C", "/a\\", true)]
    [InlineData("%5ca/", "\\a/", true)]
    [InlineData("/x/%2E%2e/z%2f%2Fabc%5C../def", "/x/%2E%2e/z//abc\\../def", true)]
    [InlineData("%2fa%5Cb%2fc%5c", "/a\\b/c\\", true)]
    [InlineData("%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%", "/a\\b/c\\?%2fabcd%5C%%2f%", true)]
    [InlineData("/a?%2F", "/a?%2F", false)]
    public void UnescapeSlashes_EnvoyCases(string path, string expected, bool found)
    {
        Assert.Equal(expected, PathNormalizer.UnescapeSlashes(path, out var wasFound));
        Assert.Equal(found, wasFound);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("/xyz", "/xyz")]
    [InlineData("/xyz/..;foo=bar/abc", "/xyz/../abc")]
    [InlineData("/..;foo=bar/abc", "/../abc")]
    [InlineData("/xyz/..;foo=bar", "/xyz/..")]
    [InlineData("/xyz/..;", "/xyz/..")]
    [InlineData("/a/..;foo/b/..;bar/c", "/a/../b/../c")]
    [InlineData("/a/..;param1;param2/b", "/a/../b")]
    [InlineData("/xyz/..foo", "/xyz/..foo")]
    [InlineData("/xyz/...;foo", "/xyz/...;foo")]
    [InlineData("/xyz/remove/..;foo?param=/.;foo", "/xyz/remove/..?param=/.;foo")]
    [InlineData("/xyz/remove/..;foo#frag=/.;foo", "/xyz/remove/..#frag=/.;foo")]
    [InlineData("/xyz?param=/..;foo", "/xyz?param=/..;foo")]
    [InlineData("/xyz/.;foo=bar/abc", "/xyz/./abc")]
    [InlineData("/.;foo=bar/abc", "/./abc")]
    [InlineData("/xyz/.;foo=bar", "/xyz/.")]
    [InlineData("/xyz/.;", "/xyz/.")]
    [InlineData("/a/.;foo/b/.;bar/c", "/a/./b/./c")]
    [InlineData("/xyz/.foo", "/xyz/.foo")]
    public void StripDotSegmentParameters_EnvoyCases(string path, string expected)
    {
        Assert.Equal(expected, PathNormalizer.StripDotSegmentParameters(path));
    }

    [Theory]
    [InlineData("/a#b")]
    [InlineData("/a?b#c")]
    [InlineData("#")]
    public void Normalize_Fragment_RejectedInEveryMode(string path)
    {
        Assert.Equal(PathAction.Reject, PathNormalizer.Default.Normalize(path, out _));
        Assert.Equal(PathAction.Reject, new PathNormalizer(true, true, PathWithEscapedSlashesAction.UnescapeAndForward).Normalize(path, out _));
    }

    [Theory]
    [InlineData("/x/../blocked")]
    [InlineData("/a%2Fb\\c//d")]
    [InlineData("/a%00b?q=%2F")]
    public void Normalize_Default_SameInstance(string path)
    {
        Assert.Equal(PathAction.Continue, PathNormalizer.Default.Normalize(path, out var normalized));
        Assert.Same(path, normalized);
    }

    [Fact]
    public void Normalize_PathsNeedingNoChange_AllocateNothing()
    {
        var normalizing = new PathNormalizer(true, true, PathWithEscapedSlashesAction.UnescapeAndRedirect);
        string[] paths = ["/", "/api/v1/users/42?expand=true&x=%2F&y=/../", "/static/app.min.js", "/a%20b/c.d/e;f=g", "/x/.well-known/%7Bid%7D"];

        long Run()
        {
            long changed = 0;
            foreach (var path in paths)
            {
                PathNormalizer.Default.Normalize(path, out var same);
                normalizing.Normalize(path, out var normalized);
                changed += ReferenceEquals(same, path) ? 0 : 1;
                changed += ReferenceEquals(normalized, path) ? 0 : 1;
            }
            return changed;
        }

        var allocated = Allocations.Measure(() => Run());

        Assert.Equal(0, Run());
        Assert.Equal(0, allocated);
    }

    [Theory]
    // Envoy's header integration tests (PathWithEscapedSlashes*).
    [InlineData(true, false, PathWithEscapedSlashesAction.KeepUnchanged, "/private/..%2Fpublic%5c", "Continue", "/private/..%2Fpublic%5c")]
    [InlineData(true, false, PathWithEscapedSlashesAction.UnescapeAndForward, "/private/..%2Fpublic%5c%2e%2Fabc", "Continue", "/public/abc")]
    [InlineData(false, false, PathWithEscapedSlashesAction.UnescapeAndRedirect, "/private%2f../%2e%5Cpublic", "Redirect", "/private/../%2e\\public")]
    [InlineData(false, false, PathWithEscapedSlashesAction.RejectRequest, "/private%2f../public", "Reject", null)]
    [InlineData(false, false, PathWithEscapedSlashesAction.ImplementationSpecificDefault, "/private%2f../public", "Continue", "/private%2f../public")]
    [InlineData(false, false, PathWithEscapedSlashesAction.RejectRequest, "/a/b?x=%2F", "Continue", "/a/b?x=%2F")]
    [InlineData(true, false, PathWithEscapedSlashesAction.UnescapeAndRedirect, "/a%2F..%2Fb?q=%2F", "Redirect", "/b?q=%2F")]
    [InlineData(true, false, PathWithEscapedSlashesAction.UnescapeAndRedirect, "/a/../b", "Continue", "/b")]
    [InlineData(true, true, PathWithEscapedSlashesAction.KeepUnchanged, "//a/./b//c/", "Continue", "/a/b/c/")]
    [InlineData(true, true, PathWithEscapedSlashesAction.UnescapeAndForward, "/a%2F%2Fb\\\\c", "Continue", "/a/b/c")]
    [InlineData(false, true, PathWithEscapedSlashesAction.KeepUnchanged, "/a//../b", "Continue", "/a/../b")]
    [InlineData(true, false, PathWithEscapedSlashesAction.KeepUnchanged, "/a%00", "Reject", null)]
    public void Normalize_Modes_EnvoyResults(bool normalizePath, bool mergeSlashes, PathWithEscapedSlashesAction action, string path, string expectedAction, string? expected)
    {
        var result = new PathNormalizer(normalizePath, mergeSlashes, action).Normalize(path, out var normalized);
        Assert.Equal(Enum.Parse<PathAction>(expectedAction), result);
        if (expected is not null)
        {
            Assert.Equal(expected, normalized);
        }
    }
}

using Gateway.Formatting;
using Microsoft.Net.Http.Headers;
using Xunit;

namespace Gateway.Tests.Formatting;

public sealed class KnownHeaderNamesTests
{
    [Fact]
    public void Canonical_KnownNameInAnyCase_ReturnsFrameworkInstance()
    {
        Assert.Same(HeaderNames.UserAgent, KnownHeaderNames.Canonical("user-agent"));
        Assert.Same(HeaderNames.Host, KnownHeaderNames.Canonical("HOST"));
    }

    [Fact]
    public void Canonical_UnknownOrPseudoName_ReturnsName()
    {
        var name = "x-envoy-original-path";
        Assert.Same(name, KnownHeaderNames.Canonical(name));
        Assert.Equal(":path", KnownHeaderNames.Canonical(":path"));
    }
}

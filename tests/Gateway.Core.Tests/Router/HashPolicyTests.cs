using System.Net;
using Gateway.Clusters.LoadBalancing;
using Gateway.Router;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Router;

/// <summary>Route hash_policy: Envoy's values, combination (rotate left then xor), terminal, and the generated cookie.</summary>
public class HashPolicyTests
{
    private static DefaultHttpContext Context(string? cookie = null, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-user"] = "alice";
        context.Request.Headers["x-group"] = "admins";
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }
        context.Request.QueryString = new QueryString(query);
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.7");
        context.Connection.RemotePort = 50000;
        context.Connection.LocalIpAddress = IPAddress.Parse("10.0.0.1");
        context.Connection.LocalPort = 8080;
        return context;
    }

    private static ulong? Generate(HttpContext context, params HashPolicyPlan[] plans)
    {
        string? cookie = null;
        return HashPolicy.Compile(plans)!.Generate(context, ref cookie);
    }

    private static ulong X(string s) => HashFunctions.XxHash64(s.AsSpan());

    [Fact]
    public void Generate_TwoHeaders_RotatesTheFirstThenXors()
    {
        var hash = Generate(Context(), new HashPolicyPlan(HashPolicyKind.Header, "x-user", false), new HashPolicyPlan(HashPolicyKind.Header, "x-group", false));

        var first = X("alice");
        Assert.Equal(((first << 1) | (first >> 63)) ^ X("admins"), hash);
    }

    [Theory]
    [InlineData("user-1-session-a")]
    [InlineData("user-1-session-b")]
    [InlineData("user-1")]
    public void Generate_HeaderRegexRewrite_HashesTheRewrittenValue(string value)
    {
        var context = Context();
        context.Request.Headers["x-session"] = value;

        var hash = Generate(context, new HashPolicyPlan(HashPolicyKind.Header, "x-session", false) { HeaderRewrite = new RegexRewritePlan("^(user-[0-9]+).*$", "\\1") });

        Assert.Equal(X("user-1"), hash);
    }

    [Fact]
    public void Generate_HeaderRegexRewriteOfSeveralValues_EachRewrittenThenSorted()
    {
        var context = Context();
        context.Request.Headers["x-session"] = new Microsoft.Extensions.Primitives.StringValues(["b-2", "a-9"]);

        // Every match replaced (RE2's GlobalReplace): "b-2" → "b-x", "a-9" → "a-x"; sorted, then chained.
        var hash = Generate(context, new HashPolicyPlan(HashPolicyKind.Header, "x-session", false) { HeaderRewrite = new RegexRewritePlan("[0-9]", "x") });

        Assert.Equal(HashFunctions.XxHash64("b-x".AsSpan(), X("a-x")), hash);
    }

    [Fact]
    public void Generate_TerminalPolicyWithAHash_StopsThere()
    {
        var hash = Generate(Context(), new HashPolicyPlan(HashPolicyKind.Header, "x-user", true), new HashPolicyPlan(HashPolicyKind.Header, "x-group", false));

        Assert.Equal(X("alice"), hash);
    }

    [Fact]
    public void Generate_TerminalPolicyWithoutAHash_GoesOn()
    {
        var hash = Generate(Context(), new HashPolicyPlan(HashPolicyKind.Header, "x-missing", true), new HashPolicyPlan(HashPolicyKind.Header, "x-group", false));

        Assert.Equal(X("admins"), hash);
    }

    [Fact]
    public void Generate_NoPolicyYields_ReturnsNull()
    {
        Assert.Null(Generate(Context(), new HashPolicyPlan(HashPolicyKind.Header, "x-missing", false)));
    }

    [Fact]
    public void Generate_SourceIpAndQueryParameter_HashTheirValues()
    {
        Assert.Equal(X("10.0.0.7"), Generate(Context(), new HashPolicyPlan(HashPolicyKind.SourceIp, "", false)));
        Assert.Equal(X("42"), Generate(Context(query: "?a=1&user=42&user=43"), new HashPolicyPlan(HashPolicyKind.QueryParameter, "user", false)));
        Assert.Null(Generate(Context(query: "?a=1"), new HashPolicyPlan(HashPolicyKind.QueryParameter, "user", false)));
    }

    [Fact]
    public void Generate_SourceIpWithForwardedRemote_HashesTheStreamsAddress()
    {
        var policy = HashPolicy.Compile([new HashPolicyPlan(HashPolicyKind.SourceIp, "", false)])!;
        string? setCookie = null;

        // Envoy's router hashes the stream's downstream remote address, which x-forwarded-for may have set.
        Assert.Equal(X("192.0.2.7"), policy.Generate(Context(), ref setCookie, System.Net.IPAddress.Parse("192.0.2.7")));
        Assert.Equal(X("10.0.0.7"), policy.Generate(Context(), ref setCookie, null));
    }

    [Fact]
    public void Generate_CookiePresent_HashesItsUnquotedValue()
    {
        var plan = new HashPolicyPlan(HashPolicyKind.Cookie, "session", false) { CookieTtl = TimeSpan.FromSeconds(60) };
        string? setCookie = null;

        var hash = HashPolicy.Compile([plan])!.Generate(Context(cookie: "a=b; session=\"abc\""), ref setCookie);

        Assert.Equal(X("abc"), hash);
        Assert.Null(setCookie);
    }

    [Fact]
    public void Generate_CookieAbsentWithTtl_GeneratesItFromTheConnectionsAddresses()
    {
        var plan = new HashPolicyPlan(HashPolicyKind.Cookie, "session", false)
        {
            CookieTtl = TimeSpan.FromSeconds(3600),
            CookiePath = "/app",
            CookieAttributes = [new("SameSite", "Strict"), new("Secure", "")],
        };
        string? setCookie = null;

        var hash = HashPolicy.Compile([plan])!.Generate(Context(), ref setCookie);

        var value = X("10.0.0.7:5000010.0.0.1:8080").ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(X(value), hash);
        Assert.Equal($"session=\"{value}\"; Max-Age=3600; Path=/app; SameSite=Strict; Secure; HttpOnly", setCookie);
    }

    [Fact]
    public void Generate_CookieAbsentWithoutTtl_YieldsNothing()
    {
        Assert.Null(Generate(Context(), new HashPolicyPlan(HashPolicyKind.Cookie, "session", false)));
    }
}

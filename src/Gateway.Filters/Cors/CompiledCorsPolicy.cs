using Gateway.Configuration;
using Gateway.Filters.Common;
using Gateway.Routing;

namespace Gateway.Filters.Cors;

/// <summary>
/// A route's CORS policy as the filter reads it: each field already resolved across the levels that set one
/// (route first, then virtual host, then route configuration: the first non-empty value wins, as Envoy's
/// CorsFilter accessors walk its policy list), enabling from the most specific level only.
/// </summary>
internal sealed class CompiledCorsPolicy
{
    private readonly StringPredicate[] _allowOrigins;
    private readonly bool _allowAnyOrigin;

    private CompiledCorsPolicy(
        StringPredicate[] allowOrigins, string? allowMethods, string? allowHeaders, string? exposeHeaders, string? maxAge,
        bool? allowCredentials, bool? allowPrivateNetworkAccess, bool? forwardNotMatchingPreflights, Percentage filterEnabled, Percentage shadowEnabled)
    {
        _allowOrigins = allowOrigins;
        foreach (var origin in allowOrigins)
        {
            // Envoy tries each matcher against "*" before the origin: a matcher that takes "*" allows every origin.
            _allowAnyOrigin |= origin.Matches("*");
        }
        AllowMethods = allowMethods;
        AllowHeaders = allowHeaders;
        ExposeHeaders = exposeHeaders;
        MaxAge = maxAge;
        AllowCredentialsValue = allowCredentials;
        AllowPrivateNetworkAccessValue = allowPrivateNetworkAccess;
        ForwardNotMatchingPreflightsValue = forwardNotMatchingPreflights;
        FilterEnabled = filterEnabled;
        ShadowEnabled = shadowEnabled;
    }

    /// <summary>Null when not set (Envoy's empty string).</summary>
    public string? AllowMethods { get; }

    public string? AllowHeaders { get; }

    public string? ExposeHeaders { get; }

    public string? MaxAge { get; }

    private bool? AllowCredentialsValue { get; }

    private bool? AllowPrivateNetworkAccessValue { get; }

    private bool? ForwardNotMatchingPreflightsValue { get; }

    public bool AllowCredentials => AllowCredentialsValue ?? false;

    public bool AllowPrivateNetworkAccess => AllowPrivateNetworkAccessValue ?? false;

    public bool ForwardNotMatchingPreflights => ForwardNotMatchingPreflightsValue ?? true;

    /// <summary>Without <c>filter_enabled</c> the policy is enforced for every request.</summary>
    public Percentage FilterEnabled { get; }

    /// <summary>Without <c>shadow_enabled</c>, never.</summary>
    public Percentage ShadowEnabled { get; }

    public bool IsOriginAllowed(ReadOnlySpan<char> origin)
    {
        if (_allowAnyOrigin)
        {
            return true;
        }
        foreach (var matcher in _allowOrigins)
        {
            if (matcher.Matches(origin))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>One level's validated <c>CorsPolicy</c>.</summary>
    public static CompiledCorsPolicy FromConfig(CorsPolicy config) => new(
        FilterConfigChecks.CompileStringMatchers(config.AllowOriginStringMatch),
        NullIfEmpty(config.AllowMethods),
        NullIfEmpty(config.AllowHeaders),
        NullIfEmpty(config.ExposeHeaders),
        NullIfEmpty(config.MaxAge),
        config.AllowCredentials,
        config.AllowPrivateNetworkAccess,
        config.ForwardNotMatchingPreflights,
        Percentage.From(config.FilterEnabled, Percentage.Always),
        Percentage.From(config.ShadowEnabled, Percentage.Never));

    /// <summary>The levels of one route, most specific first, resolved into one policy.</summary>
    public static CompiledCorsPolicy Merge(IReadOnlyList<object> mostSpecificFirst)
    {
        StringPredicate[]? origins = null;
        string? methods = null, headers = null, expose = null, maxAge = null;
        bool? credentials = null, privateNetwork = null, forward = null;
        foreach (var level in mostSpecificFirst)
        {
            var policy = (CompiledCorsPolicy)level;
            if (origins is null && policy._allowOrigins.Length > 0)
            {
                origins = policy._allowOrigins;
            }
            methods ??= policy.AllowMethods;
            headers ??= policy.AllowHeaders;
            expose ??= policy.ExposeHeaders;
            maxAge ??= policy.MaxAge;
            credentials ??= policy.AllowCredentialsValue;
            privateNetwork ??= policy.AllowPrivateNetworkAccessValue;
            forward ??= policy.ForwardNotMatchingPreflightsValue;
        }
        var first = (CompiledCorsPolicy)mostSpecificFirst[0];
        return new CompiledCorsPolicy(origins ?? [], methods, headers, expose, maxAge, credentials, privateNetwork, forward, first.FilterEnabled, first.ShadowEnabled);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

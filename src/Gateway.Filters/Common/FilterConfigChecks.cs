using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Validation;

namespace Gateway.Filters.Common;

/// <summary>Checks and compiles of messages the built-in filters share, reusing routing's own for matchers.</summary>
internal static class FilterConfigChecks
{
    // Matchers need no cluster names or extensions: an empty registry is enough for the shared validator.
    private static readonly EnvoyTypeRegistry NoTypes = new();

    /// <summary>Each matcher of a list, with routing's checks (one pattern, non-empty prefix/suffix/contains, RE2 regexes).</summary>
    public static void ValidateStringMatchers(List<StringMatcher> matchers, HttpFilterValidationContext context)
        => Check(matchers, context, static (checker, matcher) => checker.ValidateStringMatcher(matcher));

    /// <summary>Each header matcher of a list, with routing's checks (a name, one specifier, RE2 regexes, ranges).</summary>
    public static void ValidateHeaderMatchers(List<HeaderMatcher> matchers, HttpFilterValidationContext context)
        => Check(matchers, context, static (checker, matcher) => checker.ValidateHeaderMatcher(matcher));

    private static void Check<T>(List<T> matchers, HttpFilterValidationContext context, Action<MatcherValidator, T> check)
    {
        if (matchers.Count == 0)
        {
            return;
        }
        var validation = new ValidationContext(NoTypes);
        var checker = new MatcherValidator(validation);
        foreach (var matcher in matchers)
        {
            check(checker, matcher);
        }
        foreach (var error in validation.Errors)
        {
            context.Error(error.Location, error.Message);
        }
    }

    /// <summary>Validated header matchers, compiled.</summary>
    public static HeaderPredicate[] CompileHeaderMatchers(List<HeaderMatcher> matchers)
    {
        var compiled = new HeaderPredicate[matchers.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = HeaderPredicate.FromConfig(matchers[i]);
        }
        return compiled;
    }

    /// <summary>
    /// Envoy's HeaderUtility::matchHeaders: every matcher matches the request's current headers (none: true);
    /// pseudo-headers read the request as routed (the normalized <c>:path</c>).
    /// </summary>
    public static bool MatchesAll(HeaderPredicate[] predicates, HttpFilterContext context)
    {
        if (predicates.Length == 0)
        {
            return true;
        }
        var request = context.HttpContext.Request;
        var host = request.Headers.Host;
        var (scheme, path) = context is FilterChainStream stream ? (stream.Scheme, stream.PathAndQuery) : (request.Scheme, request.Path + request.QueryString);
        var view = new RequestView(host.Count == 0 ? null : host.ToString(), request.Method, scheme, path, request.Headers);
        foreach (var predicate in predicates)
        {
            if (!predicate.Matches(view))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Validated matchers, compiled.</summary>
    public static StringPredicate[] CompileStringMatchers(List<StringMatcher> matchers)
    {
        var compiled = new StringPredicate[matchers.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = StringPredicate.FromConfig(matchers[i]);
        }
        return compiled;
    }

    /// <summary>A <c>RuntimeFractionalPercent</c> field: its <c>default_value</c> is required (protoc-gen-validate's rule).</summary>
    public static void ValidateRuntimeFractionalPercent(EnvoyMessage owner, string field, RuntimeFractionalPercent? percent, HttpFilterValidationContext context)
    {
        if (percent is not null && percent.DefaultValue is null && !percent.HasBindingError("default_value") && !owner.HasBindingError(field))
        {
            context.Error(percent.LocationOf("default_value"), "'default_value' is required");
        }
    }
}

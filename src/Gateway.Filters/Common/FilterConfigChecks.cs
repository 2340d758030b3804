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
        => Check(matchers, static (checker, matcher) => checker.ValidateStringMatcher(matcher), context);

    /// <summary>Each header matcher of a list, with routing's checks (a name, one specifier, valid regexes and ranges).</summary>
    public static void ValidateHeaderMatchers(List<HeaderMatcher> matchers, HttpFilterValidationContext context)
        => Check(matchers, static (checker, matcher) => checker.ValidateHeaderMatcher(matcher), context);

    private static void Check<T>(List<T> matchers, Action<MatcherValidator, T> check, HttpFilterValidationContext context)
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

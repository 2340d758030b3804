using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Validation;

/// <summary>
/// Checks the matchers routing compiles (<c>RouteMatch</c>, <c>HeaderMatcher</c>, <c>QueryParameterMatcher</c>,
/// <c>StringMatcher</c>, <c>RegexMatcher</c>). These are the only checks: <see cref="RoutePredicate"/>,
/// <see cref="HeaderPredicate"/> and the other compile steps take what passed here as given.
/// </summary>
internal sealed class MatcherValidator(ValidationContext context)
{
    public void ValidateRouteMatch(RouteMatch match)
    {
        var specifiers = (match.Prefix is null ? 0 : 1) + (match.Path is null ? 0 : 1) + (match.SafeRegex is null ? 0 : 1) + (match.PathSeparatedPrefix is null ? 0 : 1)
            + (match.PathMatchPolicy is null ? 0 : 1) + (match.ConnectMatcher is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(match, specifiers == 0
                ? "a route match needs one of 'prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix' or 'path_match_policy'"
                : "'prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix' and 'path_match_policy' are alternatives; give only one");
        }
        if (match.PathMatchPolicy is { } policy)
        {
            ValidatePathMatchPolicy(policy);
        }
        if (match.SafeRegex is { } regex)
        {
            ValidateRegex(regex);
        }
        if (match.PathSeparatedPrefix is { } separated
            && (!separated.StartsWith('/') || (separated.Length > 1 && separated.EndsWith('/')) || separated.AsSpan().IndexOfAny('?', '#') >= 0))
        {
            context.Error(match, "path_separated_prefix", "'path_separated_prefix' must start with '/', must not end with '/' and must not contain '?' or '#'");
        }
        foreach (var header in match.Headers)
        {
            ValidateHeaderMatcher(header);
        }
        foreach (var metadata in match.DynamicMetadata)
        {
            ValidateMetadataMatcher(metadata);
        }
        if (match.RuntimeFraction is { } fraction && fraction.DefaultValue is null && !fraction.HasBindingError("default_value") && !match.HasBindingError("runtime_fraction"))
        {
            context.Error(fraction.LocationOf("default_value"), "'default_value' is required");
        }
        foreach (var parameter in match.QueryParameters)
        {
            if (string.IsNullOrEmpty(parameter.Name))
            {
                context.Error(parameter, "name", "'name' is required");
            }
            if (parameter.StringMatch is not null && parameter.PresentMatch is not null)
            {
                context.Error(parameter, "'string_match' and 'present_match' are alternatives; give only one");
            }
            if (parameter.StringMatch is { } stringMatch)
            {
                ValidateStringMatcher(stringMatch);
            }
        }
    }

    /// <summary>
    /// <c>path_match_policy</c>: a name, a <c>UriTemplateMatchConfig</c> (PGV: <c>path_template</c> 1 to 256 characters) whose
    /// template parses (Envoy's UriTemplateMatcherFactory, with parsePathPatternSyntax's reason added).
    /// </summary>
    private void ValidatePathMatchPolicy(PathMatchPolicy policy)
    {
        if (string.IsNullOrEmpty(policy.Name) && !policy.HasBindingError("name"))
        {
            context.Error(policy, "name", "'name' is required and may not be empty");
        }
        if (policy.TypedConfig is not UriTemplateMatchConfig config)
        {
            if (policy.TypedConfig is null && !policy.HasBindingError("typed_config"))
            {
                context.Error(policy, "typed_config", "'typed_config' is required (envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig)");
            }
            return;
        }
        ValidatePathTemplateLength(context, config, "path_template", config.PathTemplate);
        if (config.PathTemplate is { Length: > 0 } template && UriTemplate.Validate(template) is { } error)
        {
            context.Error(config, "path_template", $"path_match_policy.uri_template {template} is invalid: {error}");
        }
    }

    /// <summary>PGV's <c>string = {min_len: 1, max_len: 256}</c> of the two URI template fields (in code points, as PGV counts).</summary>
    internal static void ValidatePathTemplateLength(ValidationContext context, EnvoyMessage owner, string field, string? value)
    {
        var length = value is null ? 0 : value.EnumerateRunes().Count();
        if (length is < 1 or > 256 && !owner.HasBindingError(field))
        {
            context.Error(owner, field, $"'{field}' must be 1 to 256 characters long, got {length}");
        }
    }

    public void ValidateHeaderMatcher(HeaderMatcher header)
    {
        if (string.IsNullOrEmpty(header.Name))
        {
            context.Error(header, "name", "'name' is required");
        }
        var specifiers = (header.ExactMatch is null ? 0 : 1) + (header.SafeRegexMatch is null ? 0 : 1) + (header.RangeMatch is null ? 0 : 1)
            + (header.PresentMatch is null ? 0 : 1) + (header.PrefixMatch is null ? 0 : 1) + (header.SuffixMatch is null ? 0 : 1)
            + (header.ContainsMatch is null ? 0 : 1) + (header.StringMatch is null ? 0 : 1);
        if (specifiers > 1)
        {
            context.Error(header, "a header matcher takes only one of exact_match, safe_regex_match, range_match, present_match, prefix_match, suffix_match, contains_match, string_match");
        }
        if (header.SafeRegexMatch is { } regex)
        {
            ValidateRegex(regex);
        }
        if (header.StringMatch is { } stringMatch)
        {
            ValidateStringMatcher(stringMatch);
        }
        if (header.RangeMatch is { } range && range.Start >= range.End)
        {
            context.Error(header, "range_match", "range_match needs start < end");
        }
    }

    /// <summary>A <c>MetadataMatcher</c> (PGV: <c>filter</c> and every key non-empty, at least one path segment, a value).</summary>
    public void ValidateMetadataMatcher(MetadataMatcher matcher)
    {
        if (string.IsNullOrEmpty(matcher.Filter))
        {
            context.Error(matcher, "filter", "'filter' is required");
        }
        if (matcher.Path.Count == 0)
        {
            context.Error(matcher, "path", "'path' needs at least one segment");
        }
        foreach (var segment in matcher.Path)
        {
            if (string.IsNullOrEmpty(segment.Key))
            {
                context.Error(segment, "key", "'key' is required");
            }
        }
        if (matcher.Value is not { } value)
        {
            context.Error(matcher, "value", "'value' is required");
        }
        else
        {
            ValidateValueMatcher(value);
        }
    }

    private void ValidateValueMatcher(ValueMatcher matcher)
    {
        var members = (matcher.NullMatch is null ? 0 : 1) + (matcher.DoubleMatch is null ? 0 : 1) + (matcher.StringMatch is null ? 0 : 1)
            + (matcher.BoolMatch is null ? 0 : 1) + (matcher.PresentMatch is null ? 0 : 1) + (matcher.ListMatch is null ? 0 : 1) + (matcher.OrMatch is null ? 0 : 1);
        if (members != 1)
        {
            context.Error(matcher, "a value matcher needs exactly one of null_match, double_match, string_match, bool_match, present_match, list_match, or_match");
        }
        if (matcher.DoubleMatch is { } number && (number.Range is null) == (number.Exact is null))
        {
            context.Error(number, "a double matcher needs exactly one of range, exact");
        }
        if (matcher.StringMatch is { } text)
        {
            ValidateStringMatcher(text);
        }
        if (matcher.ListMatch is { } list)
        {
            if (list.OneOf is { } element)
            {
                ValidateValueMatcher(element);
            }
            else
            {
                context.Error(list, "one_of", "'one_of' is required");
            }
        }
        if (matcher.OrMatch is { } any)
        {
            if (any.ValueMatchers.Count < 2)
            {
                context.Error(any, "value_matchers", "'value_matchers' needs at least 2 matchers");
            }
            foreach (var element in any.ValueMatchers)
            {
                ValidateValueMatcher(element);
            }
        }
    }

    /// <summary>One <c>StringMatcher</c> (also used by the built-in filters for their matchers).</summary>
    public void ValidateStringMatcher(StringMatcher matcher)
    {
        var specifiers = (matcher.Exact is null ? 0 : 1) + (matcher.Prefix is null ? 0 : 1) + (matcher.Suffix is null ? 0 : 1)
            + (matcher.SafeRegex is null ? 0 : 1) + (matcher.Contains is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(matcher, "a string matcher needs exactly one of exact, prefix, suffix, safe_regex, contains");
        }
        if ((matcher.Prefix?.Length == 0) || (matcher.Suffix?.Length == 0) || (matcher.Contains?.Length == 0))
        {
            context.Error(matcher, "prefix, suffix and contains may not be empty");
        }
        if (matcher.SafeRegex is { } regex)
        {
            ValidateRegex(regex);
            if (matcher.IgnoreCase)
            {
                context.Error(matcher, "ignore_case", "ignore_case has no effect for safe_regex and is rejected, as Envoy does");
            }
        }
    }

    public void ValidateRegex(RegexMatcher regex)
    {
        if (regex.Regex is null)
        {
            context.Error(regex, "regex", "'regex' is required");
            return;
        }
        // RE2's checks and the program-size bound, once: EnvoyRegex.FromValidated (the compile step) does not repeat them.
        if (EnvoyRegex.Validate(regex.Regex) is { } error)
        {
            context.Error(regex, "regex", error);
        }
    }
}

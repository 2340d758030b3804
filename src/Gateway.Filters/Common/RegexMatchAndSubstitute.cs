using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary><c>envoy.type.matcher.v3.RegexMatchAndSubstitute</c>: every match of a pattern replaced by a substitution.</summary>
[EnvoyType("envoy.type.matcher.v3.RegexMatchAndSubstitute")]
public sealed class RegexMatchAndSubstitute : EnvoyMessage
{
    /// <summary>The pattern (RE2).</summary>
    [ProtoField(1)]
    public RegexMatcher? Pattern { get; set; }

    /// <summary>The replacement; <c>\1</c> … stand for capture groups.</summary>
    [ProtoField(2)]
    public string? Substitution { get; set; }
}

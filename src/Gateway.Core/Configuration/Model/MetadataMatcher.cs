namespace Gateway.Configuration;

/// <summary><c>envoy.type.matcher.v3.MetadataMatcher</c>: one value of a metadata namespace, found by a key path.</summary>
[EnvoyType("envoy.type.matcher.v3.MetadataMatcher")]
public sealed class MetadataMatcher : EnvoyMessage
{
    /// <summary>The metadata namespace (filter name).</summary>
    public string? Filter { get; set; }

    /// <summary>The keys leading to the value, outermost first.</summary>
    public List<MetadataMatcherPathSegment> Path { get; set; } = [];

    /// <summary>What the value must be.</summary>
    public ValueMatcher? Value { get; set; }

    /// <summary>Negates the result.</summary>
    public bool Invert { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.MetadataMatcher.PathSegment</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.MetadataMatcher.PathSegment")]
public sealed class MetadataMatcherPathSegment : EnvoyMessage
{
    /// <summary>A key of a struct.</summary>
    public string? Key { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.ValueMatcher</c>: exactly one member.</summary>
[EnvoyType("envoy.type.matcher.v3.ValueMatcher")]
public sealed class ValueMatcher : EnvoyMessage
{
    /// <summary>The value is null.</summary>
    public NullMatch? NullMatch { get; set; }

    /// <summary>The value is a number in a range or equal to one.</summary>
    public DoubleMatcher? DoubleMatch { get; set; }

    /// <summary>The value is a string that matches.</summary>
    public StringMatcher? StringMatch { get; set; }

    /// <summary>The value is this boolean.</summary>
    public bool? BoolMatch { get; set; }

    /// <summary>True: the value is present (any kind); false never matches, as in Envoy.</summary>
    public bool? PresentMatch { get; set; }

    /// <summary>The value is a list with an element that matches.</summary>
    public ListMatcher? ListMatch { get; set; }

    /// <summary>Any of several matchers.</summary>
    public OrMatcher? OrMatch { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.ValueMatcher.NullMatch</c> (no fields).</summary>
[EnvoyType("envoy.type.matcher.v3.ValueMatcher.NullMatch")]
public sealed class NullMatch : EnvoyMessage;

/// <summary><c>envoy.type.matcher.v3.DoubleMatcher</c>: one of <c>range</c>, <c>exact</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.DoubleMatcher")]
public sealed class DoubleMatcher : EnvoyMessage
{
    /// <summary>[start, end).</summary>
    public DoubleRange? Range { get; set; }

    /// <summary>Equal to this.</summary>
    public double? Exact { get; set; }
}

/// <summary><c>envoy.type.v3.DoubleRange</c>: [start, end).</summary>
[EnvoyType("envoy.type.v3.DoubleRange")]
public sealed class DoubleRange : EnvoyMessage
{
    /// <summary>Inclusive start.</summary>
    public double Start { get; set; }

    /// <summary>Exclusive end.</summary>
    public double End { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.ListMatcher</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.ListMatcher")]
public sealed class ListMatcher : EnvoyMessage
{
    /// <summary>At least one element must match this.</summary>
    public ValueMatcher? OneOf { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.OrMatcher</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.OrMatcher")]
public sealed class OrMatcher : EnvoyMessage
{
    /// <summary>At least two; any may match.</summary>
    public List<ValueMatcher> ValueMatchers { get; set; } = [];
}

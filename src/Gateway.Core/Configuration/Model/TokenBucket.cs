namespace Gateway.Configuration.Types;

/// <summary><c>envoy.type.v3.TokenBucket</c>.</summary>
[EnvoyType("envoy.type.v3.TokenBucket")]
public sealed class TokenBucket : EnvoyMessage
{
    /// <summary>The bucket's size and initial tokens (greater than 0).</summary>
    [ProtoField(1)]
    public uint MaxTokens { get; set; }

    /// <summary>Tokens added per fill; default 1, greater than 0.</summary>
    [ProtoField(2)]
    public uint? TokensPerFill { get; set; }

    /// <summary>The fill interval (required, at least 50 ms).</summary>
    [ProtoField(3)]
    public TimeSpan? FillInterval { get; set; }
}

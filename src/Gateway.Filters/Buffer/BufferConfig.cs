using Gateway.Configuration;

namespace Gateway.Filters.Buffer;

/// <summary><c>envoy.extensions.filters.http.buffer.v3.Buffer</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.buffer.v3.Buffer")]
public sealed class BufferConfig : EnvoyMessage
{
    /// <summary>The largest request body buffered (required, above 0); a larger one is answered 413.</summary>
    [ProtoField(1)]
    public uint? MaxRequestBytes { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.buffer.v3.BufferPerRoute</c>: one of <c>disabled</c> or <c>buffer</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.buffer.v3.BufferPerRoute")]
public sealed class BufferPerRoute : EnvoyMessage
{
    /// <summary>The route's requests stream through unbuffered (must be true when set).</summary>
    [ProtoField(1, InOneOf = true)]
    public bool? Disabled { get; set; }

    /// <summary>The route's own buffer settings.</summary>
    [ProtoField(2, InOneOf = true)]
    public BufferConfig? Buffer { get; set; }
}

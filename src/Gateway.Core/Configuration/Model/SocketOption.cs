namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.SocketOption</c>: a <c>setsockopt</c> on a listener's socket, before it is bound
/// (<c>STATE_PREBIND</c>) or once bound (<c>STATE_BOUND</c>). Only integer values.
/// </summary>
[EnvoyType("envoy.config.core.v3.SocketOption", NotSupported = ["buf_value", "type"])]
public sealed class SocketOption : EnvoyMessage
{
    /// <summary>Free text, for the reader of the configuration.</summary>
    [ProtoField(1)]
    public string? Description { get; set; }

    /// <summary>The option's level (<c>SOL_SOCKET</c> is 1 on Linux).</summary>
    [ProtoField(2)]
    public long Level { get; set; }

    /// <summary>The option's name (<c>SO_KEEPALIVE</c> is 9 on Linux).</summary>
    [ProtoField(3)]
    public long Name { get; set; }

    /// <summary>The value, as a C <c>int</c>.</summary>
    [ProtoField(4, InOneOf = true)]
    public long? IntValue { get; set; }

    /// <summary>When it is set.</summary>
    [ProtoField(6)]
    public SocketOptionState State { get; set; }
}

/// <summary><c>envoy.config.core.v3.SocketOption.SocketState</c>.</summary>
public enum SocketOptionState
{
    /// <summary>Before <c>bind()</c>.</summary>
    StatePrebind = 0,

    /// <summary>After <c>bind()</c>, before <c>listen()</c>.</summary>
    StateBound = 1,

    /// <summary>After <c>listen()</c> (Kestrel listens itself: refused).</summary>
    StateListening = 2,
}

namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.HeaderValue</c>: a header name and value.</summary>
[EnvoyType("envoy.config.core.v3.HeaderValue", NotSupported = ["raw_value"])]
public sealed class HeaderValue : EnvoyMessage
{
    /// <summary>The header name.</summary>
    [ProtoField(1)]
    public string? Key { get; set; }

    /// <summary>The value (a substitution format string where the user of the message says so).</summary>
    [ProtoField(2)]
    public string? Value { get; set; }
}

/// <summary><c>envoy.config.core.v3.HeaderValueOption.HeaderAppendAction</c>.</summary>
public enum HeaderAppendAction
{
    /// <summary>Append to an existing header, or add it.</summary>
    AppendIfExistsOrAdd = 0,

    /// <summary>Add only when the header is absent.</summary>
    AddIfAbsent = 1,

    /// <summary>Replace an existing header, or add it.</summary>
    OverwriteIfExistsOrAdd = 2,

    /// <summary>Replace the header only when it exists.</summary>
    OverwriteIfExists = 3,
}

/// <summary><c>envoy.config.core.v3.HeaderValueOption</c>: a header to add, and how.</summary>
[EnvoyType("envoy.config.core.v3.HeaderValueOption")]
public sealed class HeaderValueOption : EnvoyMessage
{
    /// <summary>The header.</summary>
    [ProtoField(1)]
    public HeaderValue? Header { get; set; }

    /// <summary>Deprecated: true appends, false overwrites; give <see cref="AppendAction"/> instead.</summary>
    [ProtoField(2)]
    public bool? Append { get; set; }

    /// <summary>What to do when the header exists (default append).</summary>
    [ProtoField(3)]
    public HeaderAppendAction AppendAction { get; set; }

    /// <summary>Add the header even when its value is empty.</summary>
    [ProtoField(4)]
    public bool KeepEmptyValue { get; set; }
}

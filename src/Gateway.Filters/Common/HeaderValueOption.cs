using Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Filters.Common;

/// <summary><c>envoy.config.core.v3.HeaderValue</c>.</summary>
[EnvoyType("envoy.config.core.v3.HeaderValue", NotSupported = ["raw_value"])]
public sealed class HeaderValue : EnvoyMessage
{
    /// <summary>The header name.</summary>
    [ProtoField(1)]
    public string? Key { get; set; }

    /// <summary>The value (Envoy's %COMMAND% substitutions are not supported and refused).</summary>
    [ProtoField(2)]
    public string? Value { get; set; }
}

/// <summary><c>envoy.config.core.v3.HeaderValueOption</c>.</summary>
[EnvoyType("envoy.config.core.v3.HeaderValueOption")]
public sealed class HeaderValueOption : EnvoyMessage
{
    /// <summary>The header.</summary>
    [ProtoField(1)]
    public HeaderValue? Header { get; set; }

    /// <summary>Deprecated: true appends, false overwrites (use <see cref="AppendAction"/>).</summary>
    [ProtoField(2)]
    public bool? Append { get; set; }

    /// <summary>What to do when the header exists; default <c>APPEND_IF_EXISTS_OR_ADD</c>.</summary>
    [ProtoField(3)]
    public HeaderAppendAction AppendAction { get; set; }

    /// <summary>Add the header even when its value is empty.</summary>
    [ProtoField(4)]
    public bool KeepEmptyValue { get; set; }

    /// <summary><c>HeaderValueOption.HeaderAppendAction</c>.</summary>
    public enum HeaderAppendAction
    {
        /// <summary>Append a value, or add the header.</summary>
        AppendIfExistsOrAdd = 0,

        /// <summary>Add only when absent.</summary>
        AddIfAbsent = 1,

        /// <summary>Replace every value, or add the header.</summary>
        OverwriteIfExistsOrAdd = 2,

        /// <summary>Replace only when present.</summary>
        OverwriteIfExists = 3,
    }
}

/// <summary>Compiled <see cref="HeaderValueOption"/>s (Envoy's HeaderParser without formatters), applied in order.</summary>
internal sealed class HeaderMutations
{
    private readonly Entry[] _entries;

    private HeaderMutations(Entry[] entries) => _entries = entries;

    public static HeaderMutations Empty { get; } = new([]);

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>Checks a list: a key, no formatter commands, not both <c>append</c> and <c>append_action</c>, at most <paramref name="maxItems"/>.</summary>
    public static void Validate(List<HeaderValueOption> options, EnvoyMessage owner, string field, int maxItems, HttpFilterValidationContext context)
    {
        if (options.Count > maxItems)
        {
            context.FieldError(owner, field, $"{field}: value must contain no more than {maxItems} item(s)");
        }
        foreach (var option in options)
        {
            if (option.Header is not { } header)
            {
                context.FieldError(option, "header", "header: value is required");
                continue;
            }
            if (string.IsNullOrEmpty(header.Key))
            {
                context.FieldError(header, "key", "key: value length must be at least 1 characters");
            }
            else if (header.Key.StartsWith(':') || string.Equals(header.Key, "host", StringComparison.OrdinalIgnoreCase))
            {
                context.FieldError(header, "key", ":-prefixed or host headers may not be modified");
            }
            if (header.Value?.Contains('%', StringComparison.Ordinal) == true)
            {
                context.FieldError(header, "value", "header value formatters (%COMMAND%) are not supported");
            }
            if (option.HasField("append") && option.HasField("append_action"))
            {
                context.MessageError(option, "Both append and append_action are set and it's not allowed");
            }
        }
    }

    public static HeaderMutations Compile(List<HeaderValueOption> options)
    {
        if (options.Count == 0)
        {
            return Empty;
        }
        var entries = new Entry[options.Count];
        for (var i = 0; i < options.Count; i++)
        {
            var option = options[i];
            var action = option.Append switch
            {
                true => HeaderValueOption.HeaderAppendAction.AppendIfExistsOrAdd,
                false => HeaderValueOption.HeaderAppendAction.OverwriteIfExistsOrAdd,
                null => option.AppendAction,
            };
            entries[i] = new Entry(option.Header!.Key!, option.Header.Value ?? string.Empty, action, option.KeepEmptyValue);
        }
        return new HeaderMutations(entries);
    }

    public void Apply(IHeaderDictionary headers)
    {
        foreach (var entry in _entries)
        {
            if (entry.Value.Length == 0 && !entry.KeepEmpty)
            {
                continue;
            }
            var exists = headers.ContainsKey(entry.Name);
            switch (entry.Action)
            {
                case HeaderValueOption.HeaderAppendAction.AppendIfExistsOrAdd:
                    // Not IHeaderDictionary.Append, which drops an empty value that keep_empty_value asks to add.
                    headers[entry.Name] = StringValues.Concat(headers[entry.Name], entry.Value);
                    break;
                case HeaderValueOption.HeaderAppendAction.AddIfAbsent:
                    if (!exists)
                    {
                        headers[entry.Name] = entry.Value;
                    }
                    break;
                case HeaderValueOption.HeaderAppendAction.OverwriteIfExistsOrAdd:
                    headers[entry.Name] = entry.Value;
                    break;
                default:
                    if (exists)
                    {
                        headers[entry.Name] = entry.Value;
                    }
                    break;
            }
        }
    }

    private readonly record struct Entry(string Name, string Value, HeaderValueOption.HeaderAppendAction Action, bool KeepEmpty);
}

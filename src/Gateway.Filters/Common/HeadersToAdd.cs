using Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Filters.Common;

/// <summary>Compiled <see cref="HeaderValueOption"/>s (Envoy's HeaderParser without formatters), applied in order.</summary>
internal sealed class HeadersToAdd
{
    private readonly Entry[] _entries;

    private HeadersToAdd(Entry[] entries) => _entries = entries;

    public static HeadersToAdd Empty { get; } = new([]);

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

    public static HeadersToAdd Compile(List<HeaderValueOption> options)
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
                true => HeaderAppendAction.AppendIfExistsOrAdd,
                false => HeaderAppendAction.OverwriteIfExistsOrAdd,
                null => option.AppendAction,
            };
            entries[i] = new Entry(option.Header!.Key!, option.Header.Value ?? string.Empty, action, option.KeepEmptyValue);
        }
        return new HeadersToAdd(entries);
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
                case HeaderAppendAction.AppendIfExistsOrAdd:
                    // Not IHeaderDictionary.Append, which drops an empty value that keep_empty_value asks to add.
                    headers[entry.Name] = StringValues.Concat(headers[entry.Name], entry.Value);
                    break;
                case HeaderAppendAction.AddIfAbsent:
                    if (!exists)
                    {
                        headers[entry.Name] = entry.Value;
                    }
                    break;
                case HeaderAppendAction.OverwriteIfExistsOrAdd:
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

    private readonly record struct Entry(string Name, string Value, HeaderAppendAction Action, bool KeepEmpty);
}

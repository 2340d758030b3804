using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.Common;

/// <summary>Compiled <see cref="HeaderValueOption"/>s: Core's <see cref="HeaderParser"/> (Envoy's) with plain-text values.</summary>
internal sealed class HeadersToAdd
{
    private readonly HeaderParser _parser;

    private HeadersToAdd(HeaderParser parser) => _parser = parser;

    public static HeadersToAdd Empty { get; } = new(HeaderParser.Empty);

    public bool IsEmpty => _parser.IsEmpty;

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
            if (HeaderParser.HasConflictingAppend(option))
            {
                context.MessageError(option, HeaderParser.ConflictingAppendMessage);
            }
        }
    }

    public static HeadersToAdd Compile(List<HeaderValueOption> options)
        => options.Count == 0 ? Empty : new HeadersToAdd(HeaderParser.CompileLiterals(options));

    /// <summary>Applies the headers (Core's HeaderParser: every existence checked first, then overwrites, then appends).</summary>
    public void Apply(IHeaderDictionary headers) => _parser.Evaluate(headers, default);
}

using Gateway.Configuration;
using Gateway.Filters.Common;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.HeaderMutation;

/// <summary>
/// Compiled <c>mutation_rules.v3.HeaderMutation</c> lists (Envoy's <c>Http::HeaderMutations</c>): each rule in order, a
/// remove or an append with <c>HeaderValueOption</c>'s append action (<see cref="HeadersToAdd"/>); an empty value is
/// skipped unless <c>keep_empty_value</c>. Values are plain text: formatter commands are refused when the configuration loads.
/// </summary>
internal sealed class HeaderMutations
{
    public static readonly HeaderMutations Empty = new([]);

    private readonly Rule[] _rules;

    private HeaderMutations(Rule[] rules) => _rules = rules;

    public static void Validate(List<HeaderMutationRule> rules, HttpFilterValidationContext context)
    {
        foreach (var rule in rules)
        {
            if (rule.Remove is null && rule.Append is null)
            {
                context.Error(rule.Location, "a header mutation needs one of 'remove' or 'append'");
                continue;
            }
            if (rule.Remove is not null && rule.Append is not null)
            {
                context.Error(rule.Location, "'remove' and 'append' are alternatives (one-of action); give only one");
                continue;
            }
            if (rule.Remove is { } remove)
            {
                ValidateName(remove, rule, "remove", context);
                continue;
            }
            var option = rule.Append!;
            if (option.Header is not { } header)
            {
                context.Error(option.Location, "'header' is required");
                continue;
            }
            ValidateName(header.Key, header, "key", context);
            if (header.Value?.Contains('%', StringComparison.Ordinal) == true)
            {
                // As HeadersToAdd (the shared applier) refuses them: values are plain text.
                context.FieldError(header, "value", "header value formatters (%COMMAND%) are not supported");
            }
            if (Gateway.Routing.HeaderParser.HasConflictingAppend(option))
            {
                context.MessageError(option, Gateway.Routing.HeaderParser.ConflictingAppendMessage);
            }
        }
    }

    private static void ValidateName(string? name, EnvoyMessage owner, string field, HttpFilterValidationContext context)
    {
        if (string.IsNullOrEmpty(name))
        {
            context.Error(owner.LocationOf(field), $"'{field}' must be a non-empty header name");
        }
        else if (name[0] == ':')
        {
            context.Error(owner.LocationOf(field), $"mutating the pseudo-header '{name}' is not supported by this gateway yet");
        }
        else if (name.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
        {
            context.Error(owner.LocationOf(field), $"'{field}' is not a valid header name");
        }
    }

    public static HeaderMutations Compile(List<HeaderMutationRule>? rules)
    {
        if (rules is null || rules.Count == 0)
        {
            return Empty;
        }
        var compiled = new Rule[rules.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            var rule = rules[i];
            // Removes and appends interleave in order, so each append is its own one-entry HeadersToAdd.
            compiled[i] = rule.Remove is { } remove ? new Rule(remove, null) : new Rule(null, HeadersToAdd.Compile([rule.Append!]));
        }
        return new HeaderMutations(compiled);
    }

    public bool IsEmpty => _rules.Length == 0;

    public void Apply(IHeaderDictionary headers)
    {
        foreach (var rule in _rules)
        {
            if (rule.Remove is { } name)
            {
                headers.Remove(name);
            }
            else
            {
                rule.Append!.Apply(headers);
            }
        }
    }

    private readonly record struct Rule(string? Remove, HeadersToAdd? Append);
}

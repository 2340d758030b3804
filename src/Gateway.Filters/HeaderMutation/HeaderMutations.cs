using Gateway.Configuration;
using Gateway.Filters.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Filters.HeaderMutation;

/// <summary>
/// Compiled <c>mutation_rules.v3.HeaderMutation</c> lists (Envoy's <c>Http::HeaderMutations</c>): each rule in order, a
/// remove or an append with <c>HeaderValueOption</c>'s append action; an empty value is skipped unless
/// <c>keep_empty_value</c>. Values are plain text: substitution commands are refused when the configuration loads.
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
            if (header.Value is { } value && SubstitutionError(value) is { } error)
            {
                context.Error(header.LocationOf("value"), error);
            }
            if (option.Append is not null && option.HasField("append_action"))
            {
                context.Error(option.LocationOf("append"), "Both append and append_action are set and it's not allowed");
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

    /// <summary>Null for plain text (with <c>%%</c> for a '%'); else why the value is refused (a substitution command).</summary>
    internal static string? SubstitutionError(string value)
    {
        for (var i = value.IndexOf('%', StringComparison.Ordinal); i >= 0; i = value.IndexOf('%', i))
        {
            if (i + 1 < value.Length && value[i + 1] == '%')
            {
                i += 2;
                continue;
            }
            var end = value.IndexOf('%', i + 1);
            var command = end < 0 ? value[i..] : value[i..(end + 1)];
            return $"substitution format command '{command}' is not supported by this gateway yet (only plain text, with %% for '%')";
        }
        return null;
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
            if (rule.Remove is { } remove)
            {
                compiled[i] = new Rule(remove, default, Action.Remove, KeepEmpty: false);
                continue;
            }
            var option = rule.Append!;
            var action = option.Append switch
            {
                true => Action.Append,
                false => Action.OverwriteOrAdd,
                null => option.AppendAction switch
                {
                    HeaderAppendAction.AddIfAbsent => Action.AddIfAbsent,
                    HeaderAppendAction.OverwriteIfExistsOrAdd => Action.OverwriteOrAdd,
                    HeaderAppendAction.OverwriteIfExists => Action.OverwriteIfExists,
                    _ => Action.Append,
                },
            };
            var value = (option.Header!.Value ?? string.Empty).Replace("%%", "%", StringComparison.Ordinal);
            compiled[i] = new Rule(option.Header.Key!, new StringValues(value), action, option.KeepEmptyValue);
        }
        return new HeaderMutations(compiled);
    }

    public bool IsEmpty => _rules.Length == 0;

    public void Apply(IHeaderDictionary headers)
    {
        foreach (var rule in _rules)
        {
            if (rule.Action == Action.Remove)
            {
                headers.Remove(rule.Name);
                continue;
            }
            if (!rule.KeepEmpty && rule.Value[0]!.Length == 0)
            {
                continue;
            }
            switch (rule.Action)
            {
                case Action.Append:
                    // Not IHeaderDictionary.Append, which drops an empty value that keep_empty_value asks to send.
                    var existing = headers[rule.Name];
                    headers[rule.Name] = existing.Count == 0 ? rule.Value : StringValues.Concat(existing, rule.Value);
                    break;
                case Action.AddIfAbsent:
                    if (!headers.ContainsKey(rule.Name))
                    {
                        headers[rule.Name] = rule.Value;
                    }
                    break;
                case Action.OverwriteIfExists:
                    if (headers.ContainsKey(rule.Name))
                    {
                        headers[rule.Name] = rule.Value;
                    }
                    break;
                default:
                    headers[rule.Name] = rule.Value;
                    break;
            }
        }
    }

    private enum Action
    {
        Remove,
        Append,
        AddIfAbsent,
        OverwriteOrAdd,
        OverwriteIfExists,
    }

    private readonly record struct Rule(string Name, StringValues Value, Action Action, bool KeepEmpty);
}

using Gateway.Filters.Common;
using Gateway.RateLimit;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.LocalRateLimit;

/// <summary>One descriptor entry, a (key, value) pair.</summary>
internal readonly record struct DescriptorEntry(string Key, string Value);

/// <summary>
/// A compiled <c>RateLimitConfig</c>: its actions in order make one request descriptor (Envoy's
/// <c>RateLimitPolicyEntryImpl::populateDescriptors</c>); an action that cannot add its entry means no descriptor.
/// </summary>
internal sealed class DescriptorProducer
{
    private readonly ActionStep[] _actions;

    private DescriptorProducer(ActionStep[] actions) => _actions = actions;

    public static DescriptorProducer Compile(RateLimitConfig config)
    {
        var actions = new ActionStep[config.Actions.Count];
        for (var i = 0; i < actions.Length; i++)
        {
            var action = config.Actions[i];
            actions[i] = action switch
            {
                { DestinationCluster: not null } => new ActionStep(ActionKind.DestinationCluster, "destination_cluster", null, false, null, true),
                { RequestHeaders: { } headers } => new ActionStep(ActionKind.RequestHeader, headers.DescriptorKey!, headers.HeaderName, headers.SkipIfAbsent, null, true),
                { GenericKey: { } generic } => new ActionStep(ActionKind.Constant, string.IsNullOrEmpty(generic.DescriptorKey) ? "generic_key" : generic.DescriptorKey, generic.DescriptorValue, false, null, true),
                { HeaderValueMatch: { } match } => new ActionStep(ActionKind.HeaderMatch, string.IsNullOrEmpty(match.DescriptorKey) ? "header_match" : match.DescriptorKey, match.DescriptorValue,
                    false, RequestHeaderMatchers.Compile(match.Headers), match.ExpectMatch ?? true),
                _ => throw new InvalidOperationException("a validated rate limit action has one action"),
            };
        }
        return new DescriptorProducer(actions);
    }

    /// <summary>The request's descriptor, or null when an action could not add its entry (or none added one).</summary>
    public DescriptorEntry[]? Produce(HttpFilterContext context)
    {
        DescriptorEntry[]? entries = null;
        var count = 0;
        foreach (var action in _actions)
        {
            string? value;
            switch (action.Kind)
            {
                case ActionKind.DestinationCluster:
                    value = context.Route?.ClusterName;
                    if (value is null)
                    {
                        return null;
                    }
                    break;
                case ActionKind.RequestHeader:
                    var values = context.HttpContext.Request.Headers[action.Argument!];
                    if (values.Count == 0)
                    {
                        if (action.SkipIfAbsent)
                        {
                            continue;
                        }
                        return null;
                    }
                    // Only the first value, as Envoy's HeaderMap::get()[0].
                    value = values[0]!;
                    break;
                case ActionKind.Constant:
                    value = action.Argument!;
                    break;
                default:
                    if (action.Matchers!.Matches(context.HttpContext) != action.ExpectMatch)
                    {
                        return null;
                    }
                    value = action.Argument!;
                    break;
            }
            entries ??= new DescriptorEntry[_actions.Length];
            entries[count++] = new DescriptorEntry(action.Key, value);
        }
        if (count == 0)
        {
            return null;
        }
        return count == entries!.Length ? entries : entries.AsSpan(0, count).ToArray();
    }

    private enum ActionKind
    {
        DestinationCluster,
        RequestHeader,
        Constant,
        HeaderMatch,
    }

    private sealed record ActionStep(ActionKind Kind, string Key, string? Argument, bool SkipIfAbsent, RequestHeaderMatchers? Matchers, bool ExpectMatch);
}

/// <summary>A configured descriptor with its own bucket.</summary>
internal sealed class LocalDescriptor(DescriptorEntry[] entries, TokenBucketState bucket)
{
    public DescriptorEntry[] Entries { get; } = entries;

    public TokenBucketState Bucket { get; } = bucket;

    /// <summary>Envoy's ordering key: tokens per fill over the whole seconds of the interval (at least 1).</summary>
    public long TokensPerSecond => Bucket.TokensPerFill / Math.Max(1, (long)Bucket.FillInterval.TotalSeconds);

    /// <summary>True when the request descriptor has exactly these entries, in order.</summary>
    public bool Equals(DescriptorEntry[] request)
    {
        if (request.Length != Entries.Length)
        {
            return false;
        }
        for (var i = 0; i < request.Length; i++)
        {
            if (!string.Equals(request[i].Key, Entries[i].Key, StringComparison.Ordinal) || !string.Equals(request[i].Value, Entries[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}

using System.Globalization;
using Gateway.Configuration;
using Gateway.Configuration.Types;
using Gateway.Filters.Common;
using Gateway.RateLimit;
using Gateway.Stats;

namespace Gateway.Filters.LocalRateLimit;

/// <summary>
/// <c>envoy.filters.http.local_ratelimit</c>: token buckets in this process, a default one and one per descriptor, for
/// the listener and, through <c>typed_per_filter_config</c>, per route (each route config has its own buckets).
/// </summary>
public sealed class LocalRateLimitFilterFactory : HttpFilterFactory<LocalRateLimitConfig, LocalRateLimitConfig>
{
    /// <summary>Envoy's minimum fill interval for a bucket with a fill timer.</summary>
    internal static readonly TimeSpan MinFillInterval = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc />
    public override string Name => "envoy.filters.http.local_ratelimit";

    /// <inheritdoc />
    protected override void Validate(LocalRateLimitConfig config, HttpFilterValidationContext context) => Check(config, perRoute: false, context);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(LocalRateLimitConfig config, HttpFilterValidationContext context) => Check(config, perRoute: true, context);

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(LocalRateLimitConfig config, HttpFilterFactoryContext context)
        => new LocalRateLimitFilter(LocalRateLimitSettings.Compile(config, context));

    /// <inheritdoc />
    protected override object CreateRouteConfig(LocalRateLimitConfig config, HttpFilterFactoryContext context)
        => LocalRateLimitSettings.Compile(config, context);

    private static void Check(LocalRateLimitConfig config, bool perRoute, HttpFilterValidationContext context)
    {
        if (string.IsNullOrEmpty(config.StatPrefix))
        {
            context.FieldError(config, "stat_prefix", "stat_prefix: value length must be at least 1 characters");
        }
        if (config.TokenBucket is { } bucket)
        {
            CheckBucket(bucket, context);
        }
        else if (perRoute)
        {
            context.MessageError(config, "local rate limit token bucket must be set for per filter configs");
        }
        if (config.Status is { Code: HttpStatusCode.Empty } status)
        {
            context.FieldError(status, "code", "code: value must not be in list [0]");
        }
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "filter_enabled", config.FilterEnabled, context);
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "filter_enforced", config.FilterEnforced, context);
        HeadersToAdd.Validate(config.ResponseHeadersToAdd, config, "response_headers_to_add", 10, context);
        HeadersToAdd.Validate(config.RequestHeadersToAddWhenNotEnforced, config, "request_headers_to_add_when_not_enforced", 10, context);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var descriptor in config.Descriptors)
        {
            if (descriptor.Entries.Count == 0)
            {
                context.FieldError(descriptor, "entries", "entries: value must contain at least 1 item(s)");
            }
            foreach (var entry in descriptor.Entries)
            {
                if (string.IsNullOrEmpty(entry.Key))
                {
                    context.FieldError(entry, "key", "key: value length must be at least 1 characters");
                }
                if (string.IsNullOrEmpty(entry.Value))
                {
                    context.FieldError(entry, "value", "value: value length must be at least 1 characters");
                }
            }
            if (descriptor.TokenBucket is not { } descriptorBucket)
            {
                context.FieldError(descriptor, "token_bucket", "token_bucket: value is required");
                continue;
            }
            CheckBucket(descriptorBucket, context);
            if (descriptorBucket.FillInterval is { } interval && interval > TimeSpan.Zero)
            {
                var global = config.TokenBucket?.FillInterval ?? TimeSpan.Zero;
                if (global <= TimeSpan.Zero || interval.Ticks % global.Ticks != 0)
                {
                    context.FieldError(descriptorBucket, "fill_interval", "local rate descriptor limit is not a multiple of token bucket fill timer");
                }
            }
            var text = Describe(descriptor);
            if (!seen.Add(text))
            {
                context.MessageError(descriptor, "duplicate descriptor in the local rate descriptor: " + text);
            }
        }
        foreach (var rateLimit in config.RateLimits)
        {
            CheckRateLimit(rateLimit, context);
        }
    }

    private static void CheckBucket(TokenBucket bucket, HttpFilterValidationContext context)
    {
        if (bucket.MaxTokens == 0)
        {
            context.FieldError(bucket, "max_tokens", "max_tokens: value must be greater than 0");
        }
        if (bucket.TokensPerFill == 0)
        {
            context.FieldError(bucket, "tokens_per_fill", "tokens_per_fill: value must be greater than 0");
        }
        if (bucket.FillInterval is not { } interval)
        {
            context.FieldError(bucket, "fill_interval", "fill_interval: value is required");
        }
        else if (interval <= TimeSpan.Zero)
        {
            context.FieldError(bucket, "fill_interval", "fill_interval: value must be greater than 0s");
        }
        else if (interval < MinFillInterval)
        {
            context.FieldError(bucket, "fill_interval", "local rate limit token bucket fill timer must be >= 50ms");
        }
    }

    private static void CheckRateLimit(RateLimitConfig rateLimit, HttpFilterValidationContext context)
    {
        if (rateLimit.Actions.Count == 0)
        {
            context.FieldError(rateLimit, "actions", "actions: value must contain at least 1 item(s)");
        }
        foreach (var action in rateLimit.Actions)
        {
            var set = (action.DestinationCluster is null ? 0 : 1) + (action.RequestHeaders is null ? 0 : 1)
                + (action.GenericKey is null ? 0 : 1) + (action.HeaderValueMatch is null ? 0 : 1);
            if (set != 1)
            {
                context.MessageError(action, set == 0
                    ? "action_specifier: value is required (one of destination_cluster, request_headers, generic_key, header_value_match)"
                    : "action_specifier: only one of destination_cluster, request_headers, generic_key, header_value_match may be set");
                continue;
            }
            if (action.RequestHeaders is { } headers)
            {
                if (string.IsNullOrEmpty(headers.HeaderName))
                {
                    context.FieldError(headers, "header_name", "header_name: value length must be at least 1 characters");
                }
                if (string.IsNullOrEmpty(headers.DescriptorKey))
                {
                    context.FieldError(headers, "descriptor_key", "descriptor_key: value length must be at least 1 characters");
                }
            }
            if (action.GenericKey is { } generic && string.IsNullOrEmpty(generic.DescriptorValue))
            {
                context.FieldError(generic, "descriptor_value", "descriptor_value: value length must be at least 1 characters");
            }
            if (action.HeaderValueMatch is { } match)
            {
                if (string.IsNullOrEmpty(match.DescriptorValue))
                {
                    context.FieldError(match, "descriptor_value", "descriptor_value: value length must be at least 1 characters");
                }
                if (match.Headers.Count == 0)
                {
                    context.FieldError(match, "headers", "headers: value must contain at least 1 item(s)");
                }
                FilterConfigChecks.ValidateHeaderMatchers(match.Headers, context);
            }
        }
    }

    internal static string Describe(LocalRateLimitDescriptor descriptor)
    {
        var parts = new string[descriptor.Entries.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = string.Create(CultureInfo.InvariantCulture, $"{descriptor.Entries[i].Key}={descriptor.Entries[i].Value}");
        }
        return string.Join(", ", parts);
    }
}

/// <summary>A compiled <see cref="LocalRateLimitConfig"/>: its buckets, stats and replies (the filter's, or one route's).</summary>
internal sealed class LocalRateLimitSettings
{
    private LocalRateLimitSettings()
    {
    }

    public required Counter Enabled { get; init; }

    public required Counter Enforced { get; init; }

    public required Counter RateLimited { get; init; }

    public required Counter Ok { get; init; }

    public required int Status { get; init; }

    public required Percentage FilterEnabled { get; init; }

    public required Percentage FilterEnforced { get; init; }

    public required Action<Microsoft.AspNetCore.Http.IHeaderDictionary>? ResponseHeaders { get; init; }

    public required HeadersToAdd RequestHeaders { get; init; }

    public required bool XRateLimitHeaders { get; init; }

    public required bool AlwaysConsumeDefaultBucket { get; init; }

    public required TokenBucketState DefaultBucket { get; init; }

    /// <summary>Descriptors in configuration order (the first full match names the bucket of the x-ratelimit headers).</summary>
    public required LocalDescriptor[] Descriptors { get; init; }

    /// <summary>The same, strictest (fewest tokens per second) first: the order tokens are taken in.</summary>
    public required LocalDescriptor[] SortedDescriptors { get; init; }

    public required DescriptorProducer[] Producers { get; init; }

    public required Random Random { get; init; }

    public static LocalRateLimitSettings Compile(LocalRateLimitConfig config, HttpFilterFactoryContext context)
    {
        var prefix = config.StatPrefix + ".http_local_rate_limit.";
        var bucket = config.TokenBucket;
        var defaultBucket = new TokenBucketState(bucket?.MaxTokens ?? 0, bucket?.TokensPerFill ?? 1, bucket?.FillInterval ?? TimeSpan.Zero, context.TimeProvider);
        var descriptors = new LocalDescriptor[config.Descriptors.Count];
        for (var i = 0; i < descriptors.Length; i++)
        {
            var descriptor = config.Descriptors[i];
            var entries = new DescriptorEntry[descriptor.Entries.Count];
            for (var j = 0; j < entries.Length; j++)
            {
                entries[j] = new DescriptorEntry(descriptor.Entries[j].Key!, descriptor.Entries[j].Value!);
            }
            var own = descriptor.TokenBucket!;
            descriptors[i] = new LocalDescriptor(entries, new TokenBucketState(own.MaxTokens, own.TokensPerFill ?? 1, own.FillInterval!.Value, context.TimeProvider));
        }
        var sorted = (LocalDescriptor[])descriptors.Clone();
        // A stable order by rate, so that equal rates keep configuration order.
        var order = new int[sorted.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        Array.Sort(order, (a, b) => descriptors[a].TokensPerSecond != descriptors[b].TokensPerSecond
            ? descriptors[a].TokensPerSecond.CompareTo(descriptors[b].TokensPerSecond)
            : a.CompareTo(b));
        for (var i = 0; i < order.Length; i++)
        {
            sorted[i] = descriptors[order[i]];
        }
        var producers = new DescriptorProducer[config.RateLimits.Count];
        for (var i = 0; i < producers.Length; i++)
        {
            producers[i] = DescriptorProducer.Compile(config.RateLimits[i]);
        }
        var responseHeaders = HeadersToAdd.Compile(config.ResponseHeadersToAdd);
        var status = (int)(config.Status?.Code ?? HttpStatusCode.TooManyRequests);
        return new LocalRateLimitSettings
        {
            Enabled = context.Stats.Counter(prefix + "enabled"),
            Enforced = context.Stats.Counter(prefix + "enforced"),
            RateLimited = context.Stats.Counter(prefix + "rate_limited"),
            Ok = context.Stats.Counter(prefix + "ok"),
            // Envoy's toErrorCode: a status below 400 is not an error, so 429 is sent instead.
            Status = status < 400 ? 429 : status,
            FilterEnabled = Percentage.From(config.FilterEnabled, Percentage.Never),
            FilterEnforced = Percentage.From(config.FilterEnforced, Percentage.Never),
            ResponseHeaders = responseHeaders.IsEmpty ? null : responseHeaders.Apply,
            RequestHeaders = HeadersToAdd.Compile(config.RequestHeadersToAddWhenNotEnforced),
            XRateLimitHeaders = config.EnableXRatelimitHeaders == XRateLimitHeadersRfcVersion.DraftVersion_03,
            AlwaysConsumeDefaultBucket = config.AlwaysConsumeDefaultTokenBucket ?? true,
            DefaultBucket = defaultBucket,
            Descriptors = descriptors,
            SortedDescriptors = sorted,
            Producers = producers,
            Random = context.Random,
        };
    }

    /// <summary>Envoy's <c>LocalRateLimiterImpl::requestAllowed</c>: matched descriptors' buckets strictest first, then (unless one matched and the default is not always consumed) the default bucket.</summary>
    public bool RequestAllowed(DescriptorEntry[]?[]? requestDescriptors)
    {
        var matched = false;
        if (requestDescriptors is not null)
        {
            foreach (var descriptor in SortedDescriptors)
            {
                foreach (var request in requestDescriptors)
                {
                    if (request is not null && descriptor.Equals(request))
                    {
                        matched = true;
                        if (!descriptor.Bucket.TryConsume())
                        {
                            return false;
                        }
                        break;
                    }
                }
            }
        }
        return (matched && !AlwaysConsumeDefaultBucket) || DefaultBucket.TryConsume();
    }

    /// <summary>The bucket the x-ratelimit headers describe: the first request descriptor that has one, else the default bucket.</summary>
    public TokenBucketState HeaderBucket(DescriptorEntry[]?[]? requestDescriptors)
    {
        if (requestDescriptors is not null)
        {
            foreach (var request in requestDescriptors)
            {
                if (request is null)
                {
                    continue;
                }
                foreach (var descriptor in Descriptors)
                {
                    if (descriptor.Equals(request))
                    {
                        return descriptor.Bucket;
                    }
                }
            }
        }
        return DefaultBucket;
    }
}

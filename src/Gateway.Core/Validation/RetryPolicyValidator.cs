using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a route's or virtual host's <c>retry_policy</c> against what <see cref="Translation.RetryPlan"/> implements.</summary>
internal sealed class RetryPolicyValidator(ValidationContext context)
{
    private readonly MatcherValidator _matchers = new(context);

    public void Validate(RetryPolicy retry)
    {
        foreach (var name in (retry.RetryOn ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Translation.RetryPlan.NotSupportedConditions.Contains(name))
            {
                context.Error(retry, "retry_on", $"retry_on '{name}' is not supported by this gateway yet; supported: {string.Join(", ", Translation.RetryPlan.Conditions.Keys)}");
            }
            else if (!Translation.RetryPlan.Conditions.ContainsKey(name))
            {
                context.Error(retry, "retry_on", $"unknown retry_on value '{name}'; supported: {string.Join(", ", Translation.RetryPlan.Conditions.Keys)}");
            }
        }
        if (retry.PerTryTimeout is { } perTry && perTry < TimeSpan.Zero)
        {
            context.Error(retry, "per_try_timeout", "'per_try_timeout' may not be negative");
        }
        if (retry.RetryBackOff is { } backOff)
        {
            if (backOff.BaseInterval is not { } baseInterval || baseInterval <= TimeSpan.Zero)
            {
                context.Error(backOff, "base_interval", "'base_interval' is required and must be greater than 0s");
            }
            else if (backOff.MaxInterval is { } maxInterval && maxInterval < baseInterval)
            {
                context.Error(backOff, "max_interval", "retry_policy.max_interval must greater than or equal to the base_interval");
            }
        }
        foreach (var code in retry.RetriableStatusCodes)
        {
            if (code is < 100 or > 599)
            {
                context.Error(retry, "retriable_status_codes", $"retriable status code {code} is not an HTTP status (100-599)");
            }
        }
        foreach (var predicate in retry.RetryHostPredicate)
        {
            if (predicate.Name != Translation.EnvoyTranslator.PreviousHostsPredicateName)
            {
                context.Error(predicate, "name", $"retry host predicate '{predicate.Name}' is not supported by this gateway yet; supported: {Translation.EnvoyTranslator.PreviousHostsPredicateName}");
            }
            else if (predicate.TypedConfig is { } typed and not PreviousHostsPredicate)
            {
                context.Error(predicate, "typed_config", $"{BootstrapValidator.MessageSchemaName(typed)} is not the configuration of {predicate.Name}");
            }
        }
        if (retry.HostSelectionRetryMaxAttempts is < 0)
        {
            context.Error(retry, "host_selection_retry_max_attempts", "'host_selection_retry_max_attempts' may not be negative");
        }
        foreach (var header in retry.RetriableHeaders)
        {
            _matchers.ValidateHeaderMatcher(header);
        }
        foreach (var header in retry.RetriableRequestHeaders)
        {
            _matchers.ValidateHeaderMatcher(header);
        }
        if (retry.RateLimitedRetryBackOff is { } rateLimited)
        {
            if (rateLimited.ResetHeaders.Count == 0)
            {
                context.Error(rateLimited, "reset_headers", "'reset_headers' needs at least one header");
            }
            foreach (var header in rateLimited.ResetHeaders)
            {
                if (string.IsNullOrEmpty(header.Name))
                {
                    context.Error(header, "name", "'name' is required");
                }
            }
            if (rateLimited.MaxInterval is { } max && max <= TimeSpan.Zero)
            {
                context.Error(rateLimited, "max_interval", "'max_interval' must be greater than 0s");
            }
        }
    }
}

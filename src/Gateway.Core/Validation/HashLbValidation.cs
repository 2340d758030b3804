using System.Globalization;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Validation;

/// <summary>
/// Envoy's checks of the consistent-hashing settings (ring sizes, the Maglev table size) and of route
/// <c>hash_policy</c> entries, with Envoy's messages (the proto constraints as protoc-gen-validate words them).
/// </summary>
internal static class HashLbValidation
{
    public static void Validate(ValidationContext context, Cluster cluster)
    {
        if (cluster.RingHashLbConfig is { } ring)
        {
            ValidateRingSizes(context, ring, ring.MinimumRingSize, ring.MaximumRingSize, "RingHashLbConfigValidationError");
        }
        if (cluster.MaglevLbConfig is { } maglev)
        {
            ValidateTableSize(context, maglev, maglev.TableSize, "MaglevLbConfigValidationError");
        }
        if (cluster.CommonLbConfig?.ConsistentHashingLbConfig is { } common)
        {
            ValidateHashBalanceFactor(context, common, common.HashBalanceFactor, "ConsistentHashingLbConfigValidationError");
        }
    }

    /// <summary><c>hash_balance_factor</c> of the cluster's or a typed policy's settings: at least 100 when set (the proto's gte).</summary>
    public static void ValidateHashBalanceFactor(ValidationContext context, EnvoyMessage owner, uint? factor, string errorType)
    {
        if (factor is < 100)
        {
            context.Error(owner, "hash_balance_factor", $"Proto constraint validation failed ({errorType}.HashBalanceFactor: value must be greater than or equal to 100)");
        }
    }

    /// <summary>The ring sizes of <c>ring_hash_lb_config</c> or the typed RingHash (<paramref name="errorType"/> names the message as protoc-gen-validate does).</summary>
    public static void ValidateRingSizes(ValidationContext context, EnvoyMessage owner, ulong? minimum, ulong? maximum, string errorType)
    {
        var min = minimum ?? RingHashPlan.DefaultMinimumRingSize;
        var max = maximum ?? RingHashPlan.DefaultMaximumRingSize;
        var sizesValid = true;
        if (min > RingHashPlan.DefaultMaximumRingSize)
        {
            context.Error(owner, "minimum_ring_size", $"Proto constraint validation failed ({errorType}.MinimumRingSize: value must be less than or equal to {RingHashPlan.DefaultMaximumRingSize})");
            sizesValid = false;
        }
        if (max > RingHashPlan.DefaultMaximumRingSize)
        {
            context.Error(owner, "maximum_ring_size", $"Proto constraint validation failed ({errorType}.MaximumRingSize: value must be less than or equal to {RingHashPlan.DefaultMaximumRingSize})");
            sizesValid = false;
        }
        if (sizesValid && min > max)
        {
            context.Error(owner, "minimum_ring_size", $"ring hash: minimum_ring_size ({min.ToString(CultureInfo.InvariantCulture)}) > maximum_ring_size ({max.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    /// <summary>The table size of <c>maglev_lb_config</c> or the typed Maglev: at most 5000011 and prime.</summary>
    public static void ValidateTableSize(ValidationContext context, EnvoyMessage owner, ulong? tableSize, string errorType)
    {
        if (tableSize is not { } size)
        {
            return;
        }
        if (size > MaglevPlan.MaxTableSize)
        {
            context.Error(owner, "table_size", $"Proto constraint validation failed ({errorType}.TableSize: value must be less than or equal to {MaglevPlan.MaxTableSize})");
        }
        else if (!IsPrime(size))
        {
            context.Error(owner, "table_size", "The table size of maglev must be prime number");
        }
    }

    public static void ValidateHashPolicies(ValidationContext context, RouteAction action)
    {
        foreach (var policy in action.HashPolicy)
        {
            var specifiers = (policy.Header is null ? 0 : 1) + (policy.Cookie is null ? 0 : 1) + (policy.ConnectionProperties is null ? 0 : 1) + (policy.QueryParameter is null ? 0 : 1)
                + (policy.FilterState is null ? 0 : 1);
            if (policy.HasBindingErrors)
            {
                continue;
            }
            if (specifiers == 0)
            {
                context.Error(policy, "Proto constraint validation failed (HashPolicyValidationError.PolicySpecifier: value is required)");
            }
            else if (specifiers > 1)
            {
                context.Error(policy, "a hash_policy takes one of 'header', 'cookie', 'connection_properties', 'query_parameter' and 'filter_state'");
            }
            if (policy.Header is { } header && string.IsNullOrEmpty(header.HeaderName))
            {
                context.Error(header, "header_name", "Proto constraint validation failed (HeaderValidationError.HeaderName: value length must be at least 1 characters)");
            }
            else if (policy.Header is { HeaderName: { } name } && !IsHeaderName(name))
            {
                header = policy.Header;
                context.Error(header, "header_name", "Proto constraint validation failed (HeaderValidationError.HeaderName: value does not match regex pattern \"^[^\\x00\\n\\r]*$\")");
            }
            if (policy.Cookie is { } cookie)
            {
                if (string.IsNullOrEmpty(cookie.Name))
                {
                    context.Error(cookie, "name", "Proto constraint validation failed (CookieValidationError.Name: value length must be at least 1 characters)");
                }
                if (cookie.Ttl is { } ttl && ttl < TimeSpan.Zero)
                {
                    context.Error(cookie, "ttl", "'ttl' may not be negative");
                }
                foreach (var attribute in cookie.Attributes)
                {
                    if (string.IsNullOrEmpty(attribute.Name))
                    {
                        context.Error(attribute, "name", "Proto constraint validation failed (CookieAttributeValidationError.Name: value length must be at least 1 characters)");
                    }
                }
            }
            if (policy.FilterState is not null)
            {
                // Envoy hashes a Hashable object a filter stored under the key; no filter of this gateway stores any,
                // so the policy could never yield a hash: refused rather than silently ignored.
                context.Error(policy, "filter_state", "'filter_state' is not supported by this gateway: it has no filter state objects to hash (no filter here sets one)");
            }
            if (policy.QueryParameter is { } query && string.IsNullOrEmpty(query.Name))
            {
                context.Error(query, "name", "Proto constraint validation failed (QueryParameterValidationError.Name: value length must be at least 1 characters)");
            }
        }
    }

    private static bool IsHeaderName(string name) => name.AsSpan().IndexOfAny('\0', '\n', '\r') < 0;

    /// <summary>Envoy's Primes::isPrime.</summary>
    internal static bool IsPrime(ulong n)
    {
        if (n < 2)
        {
            return false;
        }
        if (n % 2 == 0)
        {
            return n == 2;
        }
        for (ulong d = 3; d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }
        return true;
    }
}

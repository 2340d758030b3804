using System.Text;

namespace Gateway.Configuration;

/// <summary>Converts between C# member names and Envoy's protobuf spellings.</summary>
internal static class EnvoyNames
{
    /// <summary><c>DnsLookupFamily</c> → <c>dns_lookup_family</c>; <c>V4Only</c> → <c>v4_only</c>.</summary>
    public static string ToSnakeCase(string pascal)
    {
        var builder = new StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1])))
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary><c>lb_policy</c> → <c>lbPolicy</c>, the protobuf JSON name.</summary>
    public static string ToLowerCamelCase(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        var upperNext = false;
        foreach (var c in snake)
        {
            if (c == '_')
            {
                upperNext = true;
                continue;
            }
            builder.Append(upperNext ? char.ToUpperInvariant(c) : c);
            upperNext = false;
        }
        return builder.ToString();
    }

    private const int MaxSuggestedLength = 128;

    /// <summary>The closest candidate by edit distance, if it is close enough to be a likely typo.</summary>
    public static string? Suggest(string input, IEnumerable<string> candidates)
    {
        // No field name is this long, and the edit distance costs the product of the lengths.
        if (input.Length > MaxSuggestedLength)
        {
            return null;
        }
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (Math.Abs(candidate.Length - input.Length) >= bestDistance)
            {
                continue; // the distance is at least the difference in length: cannot be closer
            }
            var distance = EditDistance(input, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= Math.Max(2, input.Length / 4) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>The protobuf name of an enum value: UPPER_SNAKE_CASE of the member, or the member as written for a <see cref="ProtoEnumNamesVerbatimAttribute"/> enum.</summary>
    public static string EnumValueName(Enum value)
    {
        var name = value.ToString();
        return Attribute.IsDefined(value.GetType(), typeof(ProtoEnumNamesVerbatimAttribute)) ? name : ToSnakeCase(name).ToUpperInvariant();
    }
}

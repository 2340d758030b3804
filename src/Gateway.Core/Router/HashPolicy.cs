using System.Globalization;
using System.Net;
using System.Text;
using Gateway.Clusters.LoadBalancing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Router;

/// <summary>
/// A route's <c>hash_policy</c> (Envoy's Http::HashPolicyImpl), compiled when the config is applied: each policy
/// that yields a hash is folded in as <c>rotl(previous, 1) ^ hash</c>, and a <c>terminal</c> one that yielded a
/// hash (alone or with the ones before it) ends the walk. Values are hashed with xxHash64, seed 0.
/// </summary>
internal sealed class HashPolicy
{
    private readonly HashPolicyPlan[] _policies;

    /// <summary>Per policy, a header policy's compiled <c>regex_rewrite</c> (null: none).</summary>
    private readonly Routing.RegexSubstitution?[] _rewrites;

    private HashPolicy(HashPolicyPlan[] policies)
    {
        _policies = policies;
        _rewrites = new Routing.RegexSubstitution?[policies.Length];
        for (var i = 0; i < policies.Length; i++)
        {
            if (policies[i].HeaderRewrite is { } rewrite)
            {
                _rewrites[i] = Routing.RegexSubstitution.Compile(rewrite.Pattern, rewrite.Substitution);
            }
        }
    }

    /// <summary>The compiled policies, or null when the route has none.</summary>
    public static HashPolicy? Compile(IReadOnlyList<HashPolicyPlan>? policies)
        => policies is null || policies.Count == 0 ? null : new HashPolicy([.. policies]);

    /// <summary>
    /// The request's hash key, or null when no policy yielded one. A cookie policy with a <c>ttl</c> whose cookie is
    /// absent generates the value and hands the <c>Set-Cookie</c> value to <paramref name="setCookie"/>.
    /// <paramref name="forwardedRemote"/> is the stream's remote address when <c>x-forwarded-for</c> gave it: Envoy's
    /// <c>source_ip</c> hashes the stream's address, not the connection's (the generated cookie keeps the connection's).
    /// Without <paramref name="generateCookies"/> (Envoy's generateHash with no add_cookie callback) an absent cookie yields nothing.
    /// </summary>
    public ulong? Generate(HttpContext context, ref string? setCookie, IPAddress? forwardedRemote = null, bool generateCookies = true)
    {
        ulong? hash = null;
        for (var i = 0; i < _policies.Length; i++)
        {
            var policy = _policies[i];
            var value = policy.Kind switch
            {
                HashPolicyKind.Header => HeaderHash(context.Request.Headers, policy.Name, _rewrites[i]),
                HashPolicyKind.Cookie => CookieHash(context, policy, ref setCookie, generateCookies),
                HashPolicyKind.SourceIp => SourceIpHash(forwardedRemote ?? context.Connection.RemoteIpAddress),
                _ => QueryParameterHash(context.Request.QueryString.Value, policy.Name),
            };
            if (value is { } next)
            {
                // Rotating keeps two equal policies from cancelling out (Envoy's comment).
                var previous = hash is { } h ? (h << 1) | (h >> 63) : 0;
                hash = previous ^ next;
            }
            if (policy.Terminal && hash is not null)
            {
                break;
            }
        }
        return hash;
    }

    /// <summary>
    /// Every value of the header (each first rewritten by <paramref name="rewrite"/>, every match replaced, as Envoy's
    /// HeaderHashMethod), sorted so their order does not matter, hashed one after the other (each hash seeding the next).
    /// </summary>
    internal static ulong? HeaderHash(IHeaderDictionary headers, string name, Routing.RegexSubstitution? rewrite = null)
    {
        var values = headers[name];
        if (values.Count == 0)
        {
            return null;
        }
        if (values.Count == 1)
        {
            return HashFunctions.XxHash64((rewrite is null ? values[0] : rewrite.Apply(values[0] ?? "")).AsSpan());
        }
        var sorted = values.ToArray();
        if (rewrite is not null)
        {
            for (var i = 0; i < sorted.Length; i++)
            {
                sorted[i] = rewrite.Apply(sorted[i] ?? "");
            }
        }
        Array.Sort(sorted, StringComparer.Ordinal);
        ulong hash = 0;
        foreach (var value in sorted)
        {
            hash = HashFunctions.XxHash64(value.AsSpan(), hash);
        }
        return hash;
    }

    private static ulong? CookieHash(HttpContext context, HashPolicyPlan policy, ref string? setCookie, bool generate)
    {
        var value = Routing.HttpCookies.Value(context.Request.Headers.Cookie, policy.Name);
        if (value.IsEmpty && generate && policy.CookieTtl is { } ttl)
        {
            if (context.Connection.RemoteIpAddress is not { } remote || context.Connection.LocalIpAddress is not { } local)
            {
                return null;
            }
            // Envoy's generateCookie: the same value for every request of a connection.
            var generated = HashFunctions.XxHash64((AddressString(remote, context.Connection.RemotePort) + AddressString(local, context.Connection.LocalPort)).AsSpan())
                .ToString("x16", CultureInfo.InvariantCulture);
            setCookie = SetCookieValue(policy.Name, generated, policy.CookiePath, ttl, policy.CookieAttributes);
            return HashFunctions.XxHash64(generated.AsSpan());
        }
        return value.IsEmpty ? null : HashFunctions.XxHash64(value);
    }


    /// <summary>Envoy's Utility::makeSetCookieValue with httponly.</summary>
    internal static string SetCookieValue(string name, string value, string path, TimeSpan ttl, IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        var builder = new StringBuilder(name.Length + value.Length + path.Length + 40);
        builder.Append(name).Append("=\"").Append(value).Append('"');
        var seconds = (long)ttl.TotalSeconds;
        if (seconds != 0)
        {
            builder.Append("; Max-Age=").Append(seconds.ToString(CultureInfo.InvariantCulture));
        }
        if (path.Length > 0)
        {
            builder.Append("; Path=").Append(path);
        }
        foreach (var attribute in attributes)
        {
            builder.Append("; ").Append(attribute.Key);
            if (attribute.Value.Length > 0)
            {
                builder.Append('=').Append(attribute.Value);
            }
        }
        return builder.Append("; HttpOnly").ToString();
    }

    private static ulong? SourceIpHash(IPAddress? remote)
    {
        if (remote is null)
        {
            return null;
        }
        // Kestrel's dual-mode sockets report IPv4 clients as mapped addresses; Envoy sees the IPv4 address.
        var ip = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return HashFunctions.XxHash64(ip.ToString().AsSpan());
    }

    private static string AddressString(IPAddress address, int port)
    {
        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return EnvoyTranslator.FormatHostPort(ip.ToString(), port);
    }

    /// <summary>The first value of the query parameter (Envoy's QueryParamsMulti::getFirstValue; values are not decoded).</summary>
    internal static ulong? QueryParameterHash(string? query, string name)
    {
        var rest = query.AsSpan();
        if (rest.StartsWith('?'))
        {
            rest = rest[1..];
        }
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('&');
            var part = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            var equals = part.IndexOf('=');
            var key = equals < 0 ? part : part[..equals];
            if (key.SequenceEqual(name))
            {
                return HashFunctions.XxHash64(equals < 0 ? [] : part[(equals + 1)..]);
            }
        }
        return null;
    }
}

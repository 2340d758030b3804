using System.Collections.Frozen;
using System.Reflection;
using Microsoft.Net.Http.Headers;

namespace Gateway.Formatting;

/// <summary>
/// ASP.NET Core's own instances of the header names it knows (<see cref="HeaderNames"/>). Kestrel's header collections
/// compare a looked-up name by reference before comparing it ignoring case, so a name compiled into a formatter or a
/// header rule finds its header without a character comparison when it is one of these instances.
/// </summary>
internal static class KnownHeaderNames
{
    private static readonly FrozenDictionary<string, string> Names = Build();

    /// <summary>The framework's instance of <paramref name="name"/> when it is a known header, else <paramref name="name"/>.</summary>
    public static string Canonical(string name) => Names.TryGetValue(name, out var known) ? known : name;

    private static FrozenDictionary<string, string> Build()
    {
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in typeof(HeaderNames).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.GetValue(null) is string value && value.Length != 0 && value[0] != ':')
            {
                names.TryAdd(value, value);
            }
        }
        return names.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}

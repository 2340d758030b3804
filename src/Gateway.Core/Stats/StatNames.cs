namespace Gateway.Stats;

/// <summary>Envoy's naming of stat scopes.</summary>
public static class StatNames
{
    /// <summary>The listener scope: its <c>stat_prefix</c>, or <c>ip_port</c> (Envoy replaces ':' with '_').</summary>
    public static string ListenerScope(string? statPrefix, string address, int port)
        => "listener." + (string.IsNullOrEmpty(statPrefix) ? $"{address}_{port}".Replace(':', '_') : statPrefix);

    /// <summary>The response-code class, 1..5, of a status code; 0 when outside 100-599.</summary>
    public static int CodeClass(int statusCode) => statusCode is >= 100 and < 600 ? statusCode / 100 : 0;
}

namespace Gateway.Stats;

/// <summary>Envoy's naming of stat scopes.</summary>
public static class StatNames
{
    /// <summary>The listener scope: its <c>stat_prefix</c>, or <c>ip:port</c> (IPv6 bracketed) with every ':' replaced by '_', as Envoy names it.</summary>
    public static string ListenerScope(string? statPrefix, string address, int port)
        => "listener." + (string.IsNullOrEmpty(statPrefix) ? Translation.EnvoyTranslator.FormatHostPort(address, port).Replace(':', '_') : statPrefix);

    /// <summary>The connection manager's scope, <c>http.&lt;stat_prefix&gt;.</c>, under which its filters' stats live too.</summary>
    public static string HttpPrefix(string statPrefix) => "http." + statPrefix + ".";

    /// <summary>The response-code class, 1..5, of a status code; 0 when outside 100-599.</summary>
    public static int CodeClass(int statusCode) => statusCode is >= 100 and < 600 ? statusCode / 100 : 0;
}

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The seed lab's configs (<c>examples/*.yaml</c>) made runnable on one machine: the cluster endpoint
/// <c>httpbin:8000</c> becomes <c>localhost:&lt;upstream&gt;</c> (still LOGICAL_DNS, V4_ONLY), and the listener
/// (15001) and admin (15000) addresses become 127.0.0.1 on free ports. Nothing else changes.
/// </summary>
internal static class SeedConfig
{
    public const string Simple = "simple.yaml";
    public const string ChangeTimeout = "simple_change_timeout.yaml";
    public const string Retry = "simple_retry.yaml";

    public static string Render(string exampleFile, int upstreamPort, int listenerPort, int adminPort)
    {
        var yaml = TestPaths.ReadExample(exampleFile).ReplaceLineEndings("\n");
        yaml = ReplaceOnce(yaml,
            "socket_address: { address: 0.0.0.0, port_value: 15000 }",
            $"socket_address: {{ address: 127.0.0.1, port_value: {adminPort} }}");
        yaml = ReplaceOnce(yaml,
            "socket_address: { address: 0.0.0.0, port_value: 15001 }",
            $"socket_address: {{ address: 127.0.0.1, port_value: {listenerPort} }}");
        yaml = ReplaceOnce(yaml,
            "                  address: httpbin\n                  port_value: 8000\n",
            $"                  address: localhost\n                  port_value: {upstreamPort}\n");
        return yaml;
    }

    /// <summary>Replaces exactly one occurrence; anything else means the example changed under the tests.</summary>
    public static string ReplaceOnce(string text, string oldValue, string newValue)
    {
        var first = text.IndexOf(oldValue, StringComparison.Ordinal);
        if (first < 0 || text.IndexOf(oldValue, first + oldValue.Length, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"Expected exactly one occurrence of '{oldValue}' in the seed config.");
        }
        return string.Concat(text.AsSpan(0, first), newValue, text.AsSpan(first + oldValue.Length));
    }
}

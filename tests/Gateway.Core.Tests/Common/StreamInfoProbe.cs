using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Tests.Filters;

/// <summary>The probe's (empty) configuration.</summary>
[EnvoyType("gateway.tests.StreamInfoProbe")]
public sealed class StreamInfoProbeConfig : EnvoyMessage;

/// <summary>A test filter, first in the chain, that records each request's response flags and details when it completes.</summary>
internal sealed class StreamInfoProbeFactory : HttpFilterFactory<StreamInfoProbeConfig>
{
    public const string Entry = """
        - name: probe
          typed_config: { "@type": type.googleapis.com/gateway.tests.StreamInfoProbe }
        """;

    public ConcurrentQueue<(ResponseFlags Flags, string? Details)> Completed { get; } = new();

    public override string Name => "gateway.tests.stream_info_probe";

    /// <summary>
    /// The records once <paramref name="count"/> requests have completed (waiting up to 5 s: a request completes when
    /// the server has finished the exchange, which can be just after the client has the response).
    /// </summary>
    public async Task<(ResponseFlags Flags, string? Details)[]> CompletedAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Completed.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        return [.. Completed];
    }

    protected override IHttpFilter CreateFilter(StreamInfoProbeConfig config, HttpFilterFactoryContext context) => new Probe(Completed);

    private sealed class Probe(ConcurrentQueue<(ResponseFlags, string?)> completed) : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.Complete;

        public void OnComplete(HttpFilterContext context) => completed.Enqueue((context.StreamInfo.ResponseFlags, context.StreamInfo.ResponseCodeDetails));
    }
}

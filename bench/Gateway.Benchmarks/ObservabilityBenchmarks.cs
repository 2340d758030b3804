using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Tracing.Propagation;
using Gateway.Validation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// The per-request work `gateway-observed` adds over `gateway-simple` that does not cross the wire: Envoy's default
/// access log line for a proxied 200, and an unsampled request's B3 read and inject.
/// </summary>
[MemoryDiagnoser]
public class ObservabilityBenchmarks
{
    private readonly StringBuilder _line = new(512);
    private readonly HttpRequestMessage _upstream = new(HttpMethod.Get, "http://127.0.0.1/");
    private SubstitutionFormatter _format = null!;
    private DefaultHttpContext _http = null!;
    private RequestStreamInfo _info = null!;

    [GlobalSetup]
    public void Setup()
    {
        var context = new ValidationContext(EnvoyTypeRegistry.CreateDefault());
        var options = new FormatterOptions { Time = TimeProvider.System, Random = new Random(1) };
        _format = SubstitutionFormatter.Compile(null, SubstitutionFormatter.DefaultFormat, context, options)
            ?? throw new InvalidOperationException("default format did not compile");
        _http = new DefaultHttpContext();
        var request = _http.Request;
        request.Method = "GET";
        request.Scheme = "http";
        request.Protocol = "HTTP/1.1";
        request.Host = new HostString("127.0.0.1:10000");
        request.Path = "/";
        request.Headers.UserAgent = "wrk";
        request.Headers["x-request-id"] = "8b5ad5a4-7d1b-4f3e-9c57-0c1a6f0d9e21";
        _http.Connection.RemoteIpAddress = IPAddress.Loopback;
        _http.Connection.RemotePort = 51000;
        _http.Response.StatusCode = 200;
        _info = new RequestStreamInfo(_http, TimeProvider.System, TimeProvider.System.GetTimestamp());
    }

    [Benchmark]
    public int DefaultAccessLogLine()
    {
        _line.Clear();
        _format.Format(new FormatterContext(_http, _info, AccessLogType.DownstreamEnd, null), _line);
        return _line.Length;
    }

    [Benchmark]
    public bool? B3ReadNoContext()
    {
        var headers = B3Headers.Read(_http.Request.Headers);
        return B3Propagator.ExtractSampled(headers) ?? B3Propagator.ExtractDebug(headers);
    }

    /// <summary>The baseline of <see cref="B3InjectUnsampled"/>: an upstream request's headers as YARP copies them.</summary>
    [Benchmark]
    public int UpstreamHeadersCopy()
    {
        CopyHeaders();
        return _upstream.Headers.NonValidated.Count;
    }

    [Benchmark]
    public int B3InjectUnsampled()
    {
        CopyHeaders();
        B3Propagator.Inject(_upstream.Headers, 0, 0x1234_5678_9abc_def0, 0x1234_5678_9abc_def0, null, sampled: false);
        return _upstream.Headers.NonValidated.Count;
    }

    private void CopyHeaders()
    {
        var headers = _upstream.Headers;
        headers.Clear();
        headers.TryAddWithoutValidation("user-agent", "wrk");
        headers.TryAddWithoutValidation("x-request-id", "8b5ad5a4-7d1b-4f3e-9c57-0c1a6f0d9e21");
        headers.TryAddWithoutValidation("x-envoy-expected-rq-timeout-ms", "15000");
    }
}

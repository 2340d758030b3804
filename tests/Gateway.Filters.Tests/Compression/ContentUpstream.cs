using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Gateway.Tests.Common;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Compression;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1 whose response the query describes: <c>/text/{n}</c> sends n bytes of text
/// (<c>type</c>, <c>etag</c>, <c>cc</c> (cache-control), <c>vary</c>, <c>status</c>, <c>chunked=1</c> for no content-length,
/// <c>enc=gzip|br</c> to send the body compressed with that content-encoding, <c>bad=1</c> for a corrupt one,
/// <c>reset=1</c> to send the headers and then reset before the body).
/// It records each request's headers and body bytes.
/// </summary>
internal sealed class ContentUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(IHeaderDictionary Headers, byte[] Body)> _requests = new();

    private ContentUpstream(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public IReadOnlyList<(IHeaderDictionary Headers, byte[] Body)> Requests => [.. _requests];

    /// <summary>n bytes of compressible text.</summary>
    public static byte[] Text(int length)
    {
        var pattern = Encoding.ASCII.GetBytes("hello compressor, ");
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = pattern[i % pattern.Length];
        }
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    public static byte[] Brotli(byte[] data)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            brotli.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>Decompresses a gzip member that must be complete: its trailer's length field is checked.</summary>
    public static byte[] Gunzip(byte[] data)
    {
        Assert.True(data.Length >= 18, "a gzip member has a 10-byte header and an 8-byte trailer");
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        Assert.Equal((int)output.Length, BitConverter.ToInt32(data, data.Length - 4));
        return output.ToArray();
    }

    /// <summary>Decompresses a brotli stream that must be complete (TryDecompress fails on a truncated one).</summary>
    public static byte[] Unbrotli(byte[] data)
    {
        var output = new byte[1 << 20];
        Assert.True(BrotliDecoder.TryDecompress(data, output, out var written), "a complete brotli stream");
        return output.AsSpan(0, written).ToArray();
    }

    public static async Task<ContentUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var upstream = new ContentUpstream(app);
        app.Run(async context =>
        {
            using (var body = new MemoryStream())
            {
                await context.Request.Body.CopyToAsync(body);
                var headers = new HeaderDictionary();
                foreach (var header in context.Request.Headers)
                {
                    headers[header.Key] = header.Value;
                }
                upstream._requests.Enqueue((headers, body.ToArray()));
            }
            var path = context.Request.Path.Value ?? "/";
            var query = context.Request.Query;
            var response = context.Response;
            if (query.TryGetValue("status", out var status))
            {
                response.StatusCode = int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture);
            }
            if (!path.StartsWith("/text/", StringComparison.Ordinal))
            {
                return;
            }
            var data = Text(int.Parse(path["/text/".Length..], System.Globalization.CultureInfo.InvariantCulture));
            response.ContentType = query.TryGetValue("type", out var type) ? type.ToString() : "text/plain";
            if (query.TryGetValue("etag", out var etag))
            {
                response.Headers.ETag = etag;
            }
            if (query.TryGetValue("cc", out var cacheControl))
            {
                response.Headers.CacheControl = cacheControl;
            }
            if (query.TryGetValue("vary", out var vary))
            {
                response.Headers.Vary = vary;
            }
            if (query.TryGetValue("enc", out var encoding))
            {
                response.Headers.ContentEncoding = encoding;
                data = encoding == "br" ? Brotli(data) : Gzip(data);
                if (query.ContainsKey("bad"))
                {
                    // A valid gzip header, then garbage.
                    for (var i = 10; i < data.Length; i++)
                    {
                        data[i] = 0xFF;
                    }
                }
            }
            if (query.ContainsKey("reset"))
            {
                // Headers out, then the connection goes before any body byte.
                response.ContentLength = data.Length;
                await response.StartAsync();
                await response.Body.FlushAsync();
                context.Abort();
                return;
            }
            if (query.ContainsKey("chunked"))
            {
                // Two writes with a flush between: no content-length, chunked on the wire.
                var half = data.Length / 2;
                await response.Body.WriteAsync(data.AsMemory(0, half));
                await response.Body.FlushAsync();
                await response.Body.WriteAsync(data.AsMemory(half));
                return;
            }
            response.ContentLength = data.Length;
            await response.Body.WriteAsync(data);
        });
        await app.StartAsync();
        upstream.Port = new Uri(app.Urls.First()).Port;
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// <see cref="ListenerYaml"/>'s bootstrap with one HTTP filter before the router and two routes: <c>/direct</c>, a direct
/// response, and everything else to the upstream (<paramref name="routeExtra"/>: lines for that route, as indented
/// under it in the whole document, 16 spaces).
/// </summary>
internal static class FilterYaml
{
    public static string Config(int upstreamPort, string filterName, string typedConfig, string routeExtra = "", string directBody = "")
    {
        var filters = "- name: " + filterName + "\n  typed_config:\n" + ListenerYaml.Indent(typedConfig, 4);
        var routes = $$"""
            - name: direct
              match: { prefix: "/direct" }
              direct_response: { status: 200, body: { inline_string: "{{directBody}}" } }
            - name: upstream
              match: { prefix: "/" }
              route: { cluster: echo }
            """ + "\n" + Unindent(routeExtra, 14);
        return ListenerYaml.Build(upstreamPort, filters, routes: routes.TrimEnd('\n'));
    }

    private static string Unindent(string block, int spaces)
        => string.Join('\n', block.ReplaceLineEndings("\n").Split('\n').Select(line => line.Length >= spaces && line[..spaces].Trim().Length == 0 ? line[spaces..] : line.TrimStart()));
}

using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// Raw HTTP/1.1 requests against the real gateway process (one process and one <see cref="RawUpstream"/> for the
/// class; the cases run one after another): for each, the statuses Envoy answers, that the upstream parsed exactly
/// the requests Envoy forwards (a smuggled request never appears as its own request), and that the gateway is
/// healthy afterwards. The expectations are Envoy's (Balsa HTTP/1 parser, the default since 1.27 and the only one
/// since 1.35; HCM defaults), each with the place in Envoy's source it comes from.
/// </summary>
public sealed class RawRequestBatteryTests(HardeningGateway fixture) : IClassFixture<HardeningGateway>
{
    private const string Codec = "source/common/http/http1/codec_impl.cc";
    private const string Balsa = "source/common/http/http1/balsa_parser.cc";
    private const string BalsaFrame = "quiche/balsa/balsa_frame.cc (policy set in balsa_parser.cc)";
    private const string Hcm = "source/common/http/conn_manager_impl.cc";
    private const string HeaderUtil = "source/common/http/header_utility.cc";

    /// <summary>Host and the case tag: every request of a case carries them unless the case is about them.</summary>
    private const string H = "Host: battery\r\nx-case: {tag}\r\n";
    private const string Smuggled = "GET /smuggled HTTP/1.1\r\n" + H + "\r\n";
    private const string HelloChunked = "5\r\nhello\r\n0\r\n\r\n";

    /// <summary>Envoy's <c>max_request_headers_kb</c> default (60), as bytes of the whole head (request line included).</summary>
    private const int HeadLimit = 60 * 1024;

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private static readonly Dictionary<string, RawRequestCase> Cases = BuildCases();

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Send_RawRequest_AnswersAsEnvoy(string name)
    {
        var c = Cases[name];
        var upstream = fixture.Upstream;
        var requestsBefore = upstream.Requests.Count;
        var errorsBefore = upstream.ProtocolErrors.Count;

        var statuses = new List<int>();
        var answeredTargets = new List<string>();
        var problem = "";
        await using (var connection = await RawConnection.OpenAsync(fixture.ListenerPort))
        {
            for (var i = 0; i < c.Writes.Count; i++)
            {
                if (c.WaitFor100BeforeLastWrite && i == c.Writes.Count - 1)
                {
                    problem = await ReadInto(connection, statuses, answeredTargets);
                }
                try
                {
                    await connection.SendAsync(c.Writes[i]);
                }
                catch (SocketException ex)
                {
                    // The gateway answered and closed before taking everything (e.g. a 413 mid-body); read what it sent.
                    problem = $" (sending write {i + 1} of {c.Writes.Count} failed: {ex.SocketErrorCode})";
                    break;
                }
            }
            var sendProblem = problem;
            problem = "";
            while (statuses.Count < c.Statuses.Count && problem.Length == 0)
            {
                problem = await ReadInto(connection, statuses, answeredTargets);
            }
            Assert.True(statuses.SequenceEqual(c.Statuses),
                $"{c.Name}: expected [{string.Join(", ", c.Statuses)}] ({c.Source}); the gateway answered [{string.Join(", ", statuses)}]{problem}{sendProblem}");
            if (c.ServerCloses)
            {
                Assert.True(await connection.ClosedByServerAsync(ReadTimeout),
                    $"{c.Name}: Envoy closes the connection after answering a codec error ({Codec} sendProtocolError); it stayed open");
            }
        }

        await fixture.AssertHealthyAsync(c.Tag + "-health");

        var seen = upstream.RequestsFor(c.Tag);
        var expected = c.Upstream.Select(u => $"{u.Method} {u.Target}").ToArray();
        Assert.True(expected.SequenceEqual(seen.Select(r => $"{r.Method} {r.Target}")),
            $"{c.Name}: the upstream must parse exactly [{string.Join(", ", expected)}]; it parsed [{string.Join(", ", seen)}]");
        // Untagged requests (a smuggled or HTTP/0.9 one) count too: only this case's requests and its health probe arrived.
        Assert.Equal(requestsBefore + c.Upstream.Count + 1, upstream.Requests.Count);
        for (var i = 0; i < c.Upstream.Count; i++)
        {
            c.Upstream[i].Check?.Invoke(seen[i]);
        }
        // Each upstream answer reached the client on this connection, in request order.
        Assert.Equal(c.Upstream.Select(u => u.Target), answeredTargets);
        Assert.True(upstream.ProtocolErrors.Count == errorsBefore,
            $"{c.Name}: the gateway sent the upstream something a strict HTTP/1.1 parser refuses: {string.Join("; ", upstream.ProtocolErrors.Skip(errorsBefore))}");
    }

    private static async Task<string> ReadInto(RawConnection connection, List<int> statuses, List<string> targets)
    {
        try
        {
            var response = await connection.ReadResponseAsync(ReadTimeout);
            if (response is null)
            {
                return " and then closed the connection";
            }
            statuses.Add(response.Status);
            if (response.Header("x-upstream-target") is { } target)
            {
                targets.Add(target);
            }
            return "";
        }
        catch (TimeoutException ex)
        {
            return $" and then nothing ({ex.Message})";
        }
        catch (InvalidDataException ex)
        {
            return $" and then a broken response ({ex.Message})";
        }
    }

    private static Dictionary<string, RawRequestCase> BuildCases()
    {
        var cases = new List<RawRequestCase>();

        void Add(string name, string source, string[] writes, int[] statuses, ExpectedUpstream[] upstream, bool closes = false, bool waitFor100 = false, string? differs = null)
            => cases.Add(new RawRequestCase(name, differs is null ? source : $"a deliberate difference in docs/compatibility.md: {differs}; Envoy: {source}",
                writes.Select(w => RawRequestCase.Text(w, name)).ToArray(), statuses, upstream, closes, waitFor100));

        // Kestrel parses the request before the gateway sees it; where it decides otherwise than Envoy's codec the
        // case asserts what the gateway does and names the difference (docs/compatibility.md, Downstream HTTP/1.1).
        const string KestrelRefuses = "Kestrel refuses it with 400 and closes";

        void AddBytes(string name, string source, byte[][] writes, int[] statuses, ExpectedUpstream[] upstream, bool closes = false)
            => cases.Add(new RawRequestCase(name, source, writes, statuses, upstream, closes));

        static ExpectedUpstream Up(string method, string target, Action<UpstreamRequest>? check = null) => new(method, target, check);
        static string Get(string path) => $"GET {path} HTTP/1.1\r\n{H}\r\n";
        static Action<UpstreamRequest> Body(string body) => r =>
        {
            Assert.Equal(body.Length, r.BodyLength);
            Assert.Equal(body, Encoding.Latin1.GetString(r.BodyPrefix));
        };
        static Action<UpstreamRequest> Header(string name, string value) => r => Assert.Equal(new[] { value }, r.Values(name));

        // ---- A well-formed baseline, so the battery can never pass with a gateway that refuses everything.
        Add("baseline-get", "plain HTTP/1.1 request", [Get("/baseline")], [200], [Up("GET", "/baseline")]);
        Add("baseline-post-cl", "plain HTTP/1.1 request", [$"POST /baseline HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhello"], [200],
            [Up("POST", "/baseline", Body("hello"))]);
        Add("baseline-post-chunked", "plain HTTP/1.1 request", [$"POST /baseline HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n{HelloChunked}"], [200],
            [Up("POST", "/baseline", Body("hello"))]);

        // ---- Smuggling: Content-Length and Transfer-Encoding.
        // codec_impl.cc onHeadersCompleteImpl: TE with a Content-Length → 400 (ChunkedContentLength) unless allow_chunked_length.
        Add("cl-then-te", Codec + " ChunkedContentLength",
            [$"POST /clte HTTP/1.1\r\n{H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{Smuggled}"], [400], [], closes: true);
        Add("te-then-cl", Codec + " ChunkedContentLength",
            [$"POST /tecl HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n{Smuggled}"], [400], [], closes: true);
        Add("te-then-cl-zero", Codec + " ChunkedContentLength (any Content-Length)",
            [$"POST /tecl0 HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n{HelloChunked}"], [400], [], closes: true);
        // balsa_parser.cc sets disallow_multiple_content_length = true: a second Content-Length is an error even with the same value.
        Add("cl-duplicate-same", BalsaFrame + " MULTIPLE_CONTENT_LENGTH_KEYS",
            [$"POST /cl2 HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"], [400], [], closes: true);
        Add("cl-duplicate-different", BalsaFrame + " MULTIPLE_CONTENT_LENGTH_KEYS",
            [$"POST /cl2 HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello{Smuggled}"], [400], [], closes: true);
        // balsa_frame.cc ProcessContentLengthLine: digits only (after OWS trimming), else INVALID_CONTENT_LENGTH → 400.
        Add("cl-list", BalsaFrame + " ProcessContentLengthLine",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: 5, 5\r\n\r\nhello"], [400], [], closes: true);
        Add("cl-plus", BalsaFrame + " ProcessContentLengthLine",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: +5\r\n\r\nhello"], [200], [Up("POST", "/cl", Body("hello"))],
            differs: "Kestrel reads '+5' as 5 (Envoy: 400)");
        Add("cl-minus", BalsaFrame + " ProcessContentLengthLine",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: -5\r\n\r\nhello"], [400], [], closes: true);
        Add("cl-inner-space", BalsaFrame + " ProcessContentLengthLine",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: 1 0\r\n\r\nhellohello"], [400], [], closes: true);
        Add("cl-hex", BalsaFrame + " ProcessContentLengthLine",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: 0x5\r\n\r\nhello"], [400], [], closes: true);
        Add("cl-overflow", BalsaFrame + " CONTENT_LENGTH_OVERFLOW",
            [$"POST /cl HTTP/1.1\r\n{H}Content-Length: 99999999999999999999999\r\n\r\nhello"], [400], [], closes: true);
        // balsa_frame.cc CleanUpKeyValueWhitespace: OWS around the value is not part of it.
        Add("cl-surrounding-ows", BalsaFrame + " CleanUpKeyValueWhitespace",
            [$"POST /cl-ows HTTP/1.1\r\n{H}Content-Length:  \t5 \t\r\n\r\nhello"], [200], [Up("POST", "/cl-ows", Body("hello"))]);
        // balsa_frame.cc FindColonsAndParseIntoKeyValue: every byte before the colon is checked against
        // header_properties kInvalidHeaderKeyCharList (SP included) → INVALID_HEADER_NAME_CHARACTER → 400.
        Add("cl-space-before-colon", BalsaFrame + " INVALID_HEADER_NAME_CHARACTER",
            [$"POST /cl-sp HTTP/1.1\r\n{H}Content-Length : 5\r\n\r\nhello"], [400], [], closes: true);

        // ---- Chunked bodies. balsa_frame.cc: a chunk size is hex digits; INVALID_CHUNK_LENGTH / CHUNK_LENGTH_OVERFLOW → 400.
        Add("chunk-size-not-hex", Balsa + " HPE_INVALID_CHUNK_SIZE",
            [$"POST /chunk HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"], [400], [], closes: true);
        Add("chunk-size-negative", Balsa + " HPE_INVALID_CHUNK_SIZE",
            [$"POST /chunk HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"], [400], [], closes: true);
        Add("chunk-size-overflow", BalsaFrame + " CHUNK_LENGTH_OVERFLOW",
            [$"POST /chunk HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n"], [400], [], closes: true);
        // balsa_parser.cc OnChunkExtensionInput ignores extensions: the body is forwarded (re-chunked) without them.
        Add("chunk-extension", Balsa + " OnChunkExtensionInput",
            [$"POST /chunk-ext HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0;last\r\n\r\n"], [200],
            [Up("POST", "/chunk-ext", Body("hello"))]);
        // balsa_parser.cc: disallow_lone_cr_in_chunk_extension (runtime guard on by default, always since 1.37).
        Add("chunk-extension-lone-cr", Balsa + " disallow_lone_cr_in_chunk_extension",
            [$"POST /chunk-ext HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n"], [400], [], closes: true);

        // ---- Transfer-Encoding values. codec_impl.cc: anything but exactly "chunked" (case-insensitive) → 501.
        Add("te-chunked-chunked", Codec + " InvalidTransferEncoding",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: chunked, chunked\r\n\r\n{HelloChunked}"], [501], [], closes: true);
        Add("te-gzip-chunked", Codec + " InvalidTransferEncoding",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: gzip, chunked\r\n\r\n{HelloChunked}"], [501], [], closes: true);
        Add("te-identity", Codec + " InvalidTransferEncoding",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello"], [400], [], closes: true);
        Add("te-identity-alone", Codec + " InvalidTransferEncoding",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: identity\r\n\r\nhello"], [400], [], closes: true, differs: "Kestrel 400 (Envoy: 501)");
        Add("te-xchunked", Codec + " InvalidTransferEncoding",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n{HelloChunked}"], [400], [], closes: true, differs: "Kestrel 400 (Envoy: 501)");
        // Two TE lines are one header map entry "chunked,chunked" (inline headers are joined with ',') → 501.
        Add("te-two-lines", Codec + " InvalidTransferEncoding (joined value)",
            [$"POST /te HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n{HelloChunked}"], [501], [], closes: true);
        // OWS (spaces, tabs) around the value is trimmed (balsa_frame.cc CleanUpKeyValueWhitespace), case is ignored.
        Add("te-chunked-tabs", BalsaFrame + " CleanUpKeyValueWhitespace + " + Codec + " EqualsIgnoreCase",
            [$"POST /te-tabs HTTP/1.1\r\n{H}Transfer-Encoding:\t chunked\t \r\n\r\n{HelloChunked}"], [200], [Up("POST", "/te-tabs", Body("hello"))]);
        Add("te-chunked-uppercase", Codec + " EqualsIgnoreCase",
            [$"POST /te-upper HTTP/1.1\r\n{H}Transfer-Encoding: CHUNKED\r\n\r\n{HelloChunked}"], [200], [Up("POST", "/te-upper", Body("hello"))]);
        // HTTP/1.0 with a valid TE passes the TE checks, then checkProtocolVersion answers 426 (accept_http_10 false).
        Add("te-on-http10", Codec + " checkProtocolVersion",
            [$"POST /te10 HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n\r\n{HelloChunked}"], [426], [], closes: true);

        // ---- Line folding and line endings.
        // balsa_parser.cc: disallow_header_continuation_lines = false; CR and LF are removed from the value.
        Add("obs-fold", Balsa + " disallow_header_continuation_lines=false, CR/LF removed",
            [$"GET /fold HTTP/1.1\r\n{H}X-Fold: bar\r\n baz\r\n\r\n"], [400], [], closes: true, differs: KestrelRefuses + " (Envoy joins: 'bar baz')");
        Add("obs-fold-tab", Balsa + " disallow_header_continuation_lines=false, CR/LF removed",
            [$"GET /fold HTTP/1.1\r\n{H}X-Fold: bar\r\n\tbaz\r\n\r\n"], [400], [], closes: true, differs: KestrelRefuses + " (Envoy joins: 'bar\\tbaz')");
        // balsa_frame.cc ProcessHeaders: a line ends at LF; the CR before it is optional.
        Add("bare-lf", BalsaFrame + " ProcessHeaders",
            ["GET /bare-lf HTTP/1.1\nHost: battery\nx-case: {tag}\n\n"], [200], [Up("GET", "/bare-lf")]);
        Add("bare-lf-between-headers", BalsaFrame + " ProcessHeaders",
            [$"GET /bare-lf HTTP/1.1\r\n{H}X-A: 1\nX-B: 2\r\n\r\n"], [200],
            [Up("GET", "/bare-lf", r => { Header("x-a", "1")(r); Header("x-b", "2")(r); })]);
        // disallow_lone_cr_in_request_headers stays false in Envoy's policy; balsa_parser.cc removes the CR from the value.
        Add("bare-cr-in-value", Balsa + " (CR removed from values)",
            [$"GET /bare-cr HTTP/1.1\r\n{H}X-A: 1\rX-B: 2\r\n\r\n"], [400], [], closes: true,
            differs: KestrelRefuses + " (Envoy removes the CR: x-a '1X-B: 2')");

        // ---- Header names. balsa_frame.cc: a byte of kInvalidHeaderKeyCharList before the colon (controls, SP, "(),/;<=>?@[\]{}")
        // → INVALID_HEADER_NAME_CHARACTER; empty name → INVALID_HEADER_FORMAT; no colon → HEADER_MISSING_COLON
        // (require_header_colon); then balsa_parser.cc isHeaderNameValid: RFC 9110 token characters only ('"' too).
        Add("name-space-before-colon", BalsaFrame + " INVALID_HEADER_NAME_CHARACTER (kInvalidHeaderKeyCharList)",
            [$"GET /ws HTTP/1.1\r\n{H}X-Ws : v\r\n\r\n"], [400], [], closes: true);
        Add("name-tab-before-colon", BalsaFrame + " INVALID_HEADER_NAME_CHARACTER (kInvalidHeaderKeyCharList)",
            [$"GET /ws HTTP/1.1\r\n{H}X-Ws\t: v\r\n\r\n"], [400], [], closes: true);
        Add("name-inner-space", BalsaFrame + " INVALID_HEADER_NAME_CHARACTER",
            [$"GET /name HTTP/1.1\r\n{H}X A: v\r\n\r\n"], [400], [], closes: true);
        Add("name-quote", Balsa + " isHeaderNameValid",
            [$"GET /name HTTP/1.1\r\n{H}X\"A: v\r\n\r\n"], [400], [], closes: true);
        Add("name-parenthesis", BalsaFrame + " INVALID_HEADER_NAME_CHARACTER",
            [$"GET /name HTTP/1.1\r\n{H}X(A): v\r\n\r\n"], [400], [], closes: true);
        Add("name-empty", BalsaFrame + " INVALID_HEADER_FORMAT",
            [$"GET /name HTTP/1.1\r\n{H}: v\r\n\r\n"], [400], [], closes: true);
        Add("name-no-colon", BalsaFrame + " HEADER_MISSING_COLON",
            [$"GET /name HTTP/1.1\r\n{H}X-No-Colon\r\n\r\n"], [400], [], closes: true);
        Add("name-underscore", Codec + " headers_with_underscores_action ALLOW (default)",
            [$"GET /underscore HTTP/1.1\r\n{H}X_Under: v\r\n\r\n"], [200], [Up("GET", "/underscore", Header("x_under", "v"))]);

        // ---- Header values. header_utility.cc headerValueIsValid (nghttp2_check_header_value) and balsa kError:
        // control characters except HTAB, and DEL → 400; obs-text 0x80–0xFF is a valid value and forwarded as it is.
        Add("value-nul", HeaderUtil + " headerValueIsValid", [$"GET /value HTTP/1.1\r\n{H}X-V: a\0b\r\n\r\n"], [400], [], closes: true);
        Add("value-soh", HeaderUtil + " headerValueIsValid", [$"GET /value HTTP/1.1\r\n{H}X-V: a\u0001b\r\n\r\n"], [400], [], closes: true);
        Add("value-esc", HeaderUtil + " headerValueIsValid", [$"GET /value HTTP/1.1\r\n{H}X-V: a\u001bb\r\n\r\n"], [400], [], closes: true);
        Add("value-del", HeaderUtil + " headerValueIsValid", [$"GET /value HTTP/1.1\r\n{H}X-V: a\u007fb\r\n\r\n"], [400], [], closes: true);
        Add("value-htab", HeaderUtil + " headerValueIsValid",
            [$"GET /value HTTP/1.1\r\n{H}X-V: a\tb\r\n\r\n"], [200], [Up("GET", "/value", Header("x-v", "a\tb"))]);
        var obsText = new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)' ', 0x80, 0x9F, 0xA0, 0xFF };
        AddBytes("value-obs-text-latin1", HeaderUtil + " headerValueIsValid (obs-text allowed)",
            [Concat($"GET /obs HTTP/1.1\r\nHost: battery\r\nx-case: value-obs-text-latin1\r\nX-Obs: ", obsText, "\r\n\r\n")], [200],
            [Up("GET", "/obs", r => Assert.Equal(obsText, Assert.Single(r.RawValues("x-obs"))))]);
        var utf8 = Encoding.UTF8.GetBytes("grüße 東京");
        AddBytes("value-obs-text-utf8", HeaderUtil + " headerValueIsValid (obs-text allowed)",
            [Concat($"GET /utf8 HTTP/1.1\r\nHost: battery\r\nx-case: value-obs-text-utf8\r\nX-Utf8: ", utf8, "\r\n\r\n")], [200],
            [Up("GET", "/utf8", r => Assert.Equal(utf8, Assert.Single(r.RawValues("x-utf8"))))]);

        // ---- Sizes. balsa_parser.cc: max_header_length = max_request_headers_kb (60) * 1024 over the whole head,
        // request line included → HEADERS_TOO_LONG → 431 (codec_impl.cc dispatchSlice); max_headers_count 100 → 431.
        Add("head-just-under-60k", Balsa + " max_header_length",
            [Head("head-just-under-60k", "/" + new string('u', 30 * 1024), HeadLimit - 512)], [200], [Up("GET", "/" + new string('u', 30 * 1024))]);
        Add("head-just-over-60k", Balsa + " max_header_length → 431",
            [Head("head-just-over-60k", "/" + new string('u', 30 * 1024), HeadLimit + 512)], [431], [], closes: true);
        Add("headers-only-just-over-60k", Balsa + " max_header_length → 431",
            [Head("headers-only-just-over-60k", "/big-headers", HeadLimit + 512)], [431], [], closes: true);
        Add("request-line-long-under", Balsa + " max_header_length (URL counted)",
            [Get("/" + new string('l', HeadLimit - 1024))], [200], [Up("GET", "/" + new string('l', HeadLimit - 1024))]);
        Add("request-line-long-over", Balsa + " max_header_length (URL counted) → 431",
            [Get("/" + new string('l', HeadLimit + 512))], [431], [], closes: true);
        Add("headers-100", Codec + " completeCurrentHeader max_headers_count",
            [ManyHeaders("/count", 100)], [200], [Up("GET", "/count")]);
        Add("headers-101", Codec + " completeCurrentHeader TooManyHeaders → 431",
            [ManyHeaders("/count", 101)], [431], [], closes: true);
        const int bigBody = (30 * 1024 * 1024) + (1024 * 1024);
        AddBytes("body-31mb-streamed", Hcm + " (no request body limit without a buffer filter)",
            [RawRequestCase.Text($"POST /big HTTP/1.1\r\nHost: battery\r\nx-case: body-31mb-streamed\r\nContent-Length: {bigBody}\r\n\r\n", ""),
             Enumerable.Repeat((byte)'b', bigBody).ToArray()], [200],
            [Up("POST", "/big", r => Assert.Equal(bigBody, r.BodyLength))]);

        // ---- Host. conn_manager_impl.cc: no Host on HTTP/1.1 → 400 (MissingHost); codec_impl.cc requestHeadersValid
        // with authorityIsValid (RFC 3986 authority characters) → 400; the empty string and ',' are valid authority.
        Add("host-missing", Hcm + " MissingHost", ["GET /nohost HTTP/1.1\r\nx-case: {tag}\r\n\r\n"], [400], []);
        Add("host-empty", HeaderUtil + " authorityIsValid(\"\") is true; " + Hcm + " only requires presence",
            ["GET /host-empty HTTP/1.1\r\nHost:\r\nx-case: {tag}\r\n\r\n"], [200],
            [Up("GET", "/host-empty", r => Assert.StartsWith("127.0.0.1:", Assert.Single(r.Values("host")), StringComparison.Ordinal))],
            differs: "routed with an empty authority, but SocketsHttpHandler cannot send an empty Host: one Host, the destination's (Envoy forwards it empty)");
        Add("host-duplicate", "header_map_impl.cc joins a repeated inline header with ','; authorityIsValid accepts ','",
            ["GET /host-dup HTTP/1.1\r\nHost: one.example\r\nHost: two.example\r\nx-case: {tag}\r\n\r\n"], [400], [], closes: true,
            differs: KestrelRefuses + ", as RFC 9112 says (Envoy joins the values: 'one.example,two.example')");
        Add("host-with-port", HeaderUtil + " authorityIsValid",
            ["GET /host-port HTTP/1.1\r\nHost: battery:8080\r\nx-case: {tag}\r\n\r\n"], [200], [Up("GET", "/host-port", Header("host", "battery:8080"))]);
        Add("host-slash", HeaderUtil + " authorityIsValid ('/' invalid)",
            ["GET /host-bad HTTP/1.1\r\nHost: bad/host\r\nx-case: {tag}\r\n\r\n"], [400], [], closes: true);
        Add("host-space", HeaderUtil + " authorityIsValid (SP invalid)",
            ["GET /host-bad HTTP/1.1\r\nHost: bad host\r\nx-case: {tag}\r\n\r\n"], [400], [], closes: true);
        Add("host-brace", HeaderUtil + " authorityIsValid ('{' invalid)",
            ["GET /host-bad HTTP/1.1\r\nHost: bad{host\r\nx-case: {tag}\r\n\r\n"], [400], [], closes: true);
        // codec_impl.cc handlePath: allow_absolute_url defaults to true; the target's authority replaces Host (RFC 7230 5.4).
        Add("absolute-form-other-host", Codec + " handlePath",
            ["GET http://other.example/abs?q=1 HTTP/1.1\r\nHost: battery\r\nx-case: {tag}\r\n\r\n"], [200],
            [Up("GET", "/abs?q=1", Header("host", "other.example"))]);

        // ---- Paths. Envoy's default normalize_path false / merge_slashes false: the raw path is matched and forwarded
        // byte for byte (conn_manager_utility.cc maybeNormalizePath does nothing), so none of these is /blocked upstream.
        Add("path-blocked", "route match prefix /blocked → direct_response 403", [Get("/blocked")], [403], []);
        Add("path-blocked-query", "route match prefix /blocked", [Get("/blocked?x=1")], [403], []);
        Add("path-blocked-semicolon", "route match prefix /blocked", [Get("/blocked;x=1")], [403], []);
        foreach (var (name, path) in new[]
        {
            ("path-dot-dot", "/x/../blocked"),
            ("path-dot", "/./blocked"),
            ("path-encoded-dot-dot", "/x/%2e%2e/blocked"),
            ("path-encoded-dot-dot-upper", "/x/%2E%2E/blocked"),
            ("path-encoded-b", "/%62locked"),
            ("path-encoded-slashes", "/x%2f..%2fblocked"),
            ("path-encoded-slash-prefix", "/%2fblocked"),
            ("path-backslash", "/x\\..\\blocked"),
            ("path-encoded-backslash", "/x%5c..%5cblocked"),
            ("path-double-slash", "//blocked"),
            ("path-upper-case", "/BLOCKED"),
        })
        {
            Add(name, "normalize_path false (default): raw path matched and forwarded", [Get(path)], [200], [Up("GET", path)]);
        }
        Add("path-encoded-nul", "normalize_path false (default): raw path matched and forwarded", [Get("/x%00/../blocked")], [400], [], closes: true,
            differs: KestrelRefuses + " a path that decodes to NUL");
        // conn_manager_utility.cc: http_reject_path_with_fragment (on) → 400 for a '#' in the path.
        Add("path-fragment", "conn_manager_utility.cc maybeNormalizePath http_reject_path_with_fragment", [Get("/x#/../blocked")], [400], []);
        // conn_manager_impl.cc: a path not starting with '/' (OPTIONS *) → 404 (downstream_rq_non_relative_path).
        Add("path-asterisk-options", Hcm + " AbsolutePath", [$"OPTIONS * HTTP/1.1\r\n{H}\r\n"], [404], []);

        // ---- Methods. balsa_parser.cc isMethodValid (allow_custom_methods false): Envoy's list, case-sensitive → 400.
        Add("method-lower-case", Balsa + " isMethodValid", [$"get /m HTTP/1.1\r\n{H}\r\n"], [400], [], closes: true);
        Add("method-unknown", Balsa + " isMethodValid", [$"BREW /m HTTP/1.1\r\n{H}\r\n"], [400], [], closes: true);
        Add("method-h2-preface", Balsa + " isMethodValid (PRI; codec_type HTTP1)", ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"], [], [],
            differs: "Kestrel answers the HTTP/2 preface on an HTTP/1-only endpoint with an HTTP/2 GOAWAY (HTTP_1_1_REQUIRED) (Envoy: 400)");
        Add("method-trace", Balsa + " isMethodValid (TRACE is known)", [$"TRACE /trace HTTP/1.1\r\n{H}\r\n"], [200], [Up("TRACE", "/trace")]);
        Add("method-patch", Balsa + " isMethodValid", [$"PATCH /patch HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhello"], [200],
            [Up("PATCH", "/patch", Body("hello"))]);
        // route_components.proto connect_matcher: "the only way to match CONNECT requests for HTTP/1.1"; a prefix route
        // does not match a path-less CONNECT, so there is no route (conn_manager_impl.cc answers 403 upgrade_failed only
        // with a cached route) and the router answers 404 (no_route).
        Add("method-connect", "route_components.proto connect_matcher; router no_route → 404",
            ["CONNECT battery:443 HTTP/1.1\r\nHost: battery:443\r\nx-case: {tag}\r\n\r\n"], [404], []);
        Add("method-connect-with-body", Codec + " BodyDisallowed (CONNECT with Content-Length)",
            ["CONNECT battery:443 HTTP/1.1\r\nHost: battery:443\r\nx-case: {tag}\r\nContent-Length: 5\r\n\r\nhello"], [400], [], closes: true);

        // ---- Versions. balsa_parser.cc isVersionValid (HTTP/d.d or none); codec_impl.cc checkProtocolVersion: anything
        // but HTTP/1.1 is treated as HTTP/1.0 → 426 unless accept_http_10.
        Add("version-http10", Codec + " checkProtocolVersion", [$"GET /v HTTP/1.0\r\n{H}\r\n"], [426], [], closes: true);
        Add("version-http09", Codec + " checkProtocolVersion (HTTP/0.9)", ["GET /v\r\n"], [400], [], closes: true, differs: "Kestrel 400 (Envoy: 426)");
        Add("version-http20", Codec + " checkProtocolVersion", [$"GET /v HTTP/2.0\r\n{H}\r\n"], [505], [], closes: true, differs: "Kestrel 505 (Envoy: 426)");
        Add("version-http12", Codec + " checkProtocolVersion", [$"GET /v HTTP/1.2\r\n{H}\r\n"], [505], [], closes: true, differs: "Kestrel 505 (Envoy: 426)");
        Add("version-malformed", Balsa + " isVersionValid", [$"GET /v HTTP/1.10\r\n{H}\r\n"], [400], [], closes: true);
        Add("version-lower-case", Balsa + " isVersionValid", [$"GET /v http/1.1\r\n{H}\r\n"], [505], [], closes: true, differs: "Kestrel 505 (Envoy: 400)");

        // ---- Expect: 100-continue. conn_manager_impl.cc (proxy_100_continue false): Envoy answers 100 itself and removes
        // Expect before forwarding.
        Add("expect-100-continue", Hcm + " (100-continue answered locally, Expect removed)",
            [$"POST /expect HTTP/1.1\r\n{H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", "hello"], [100, 200],
            [Up("POST", "/expect", r => { Body("hello")(r); Assert.Empty(r.Values("expect")); })], waitFor100: true);

        // ---- Pipelining. codec_impl.cc dispatch: requests are processed one at a time, answered in order.
        Add("pipeline-three-gets", Codec + " (serial dispatch)",
            [Get("/p1") + Get("/p2") + Get("/p3")], [200, 200, 200], [Up("GET", "/p1"), Up("GET", "/p2"), Up("GET", "/p3")]);
        Add("pipeline-posts", Codec + " (serial dispatch)",
            [$"POST /p1 HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhelloPOST /p2 HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n{HelloChunked}GET /p3 HTTP/1.1\r\n{H}\r\n"],
            [200, 200, 200], [Up("POST", "/p1", Body("hello")), Up("POST", "/p2", Body("hello")), Up("GET", "/p3")]);
        Add("pipeline-then-smuggling", Codec + " ChunkedContentLength",
            [Get("/p1") + $"POST /p2 HTTP/1.1\r\n{H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{Smuggled}" + Get("/p3")],
            [200, 400], [Up("GET", "/p1")], closes: true);

        // ---- Upgrades. conn_manager_impl.cc: an Upgrade the route has no upgrade_configs for → 403 (upgrade_failed), and
        // the connection is closed after it (saw_connection_close_, against smuggling in the upgrade payload);
        // codec_impl.cc removes an h2c upgrade (Upgrade, HTTP2-Settings, their Connection tokens) and serves HTTP/1.1.
        Add("upgrade-websocket", Hcm + " upgrade_failed → 403",
            [$"GET /ws HTTP/1.1\r\n{H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"],
            [403], [], closes: true);
        Add("upgrade-h2c-ignored", Codec + " (h2c upgrade removed)",
            [$"GET /h2c HTTP/1.1\r\n{H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"], [200],
            [Up("GET", "/h2c", r => { Assert.Empty(r.Values("upgrade")); Assert.Empty(r.Values("http2-settings")); })]);

        return cases.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    private static byte[] Concat(string head, byte[] middle, string tail)
        => [.. Encoding.Latin1.GetBytes(head), .. middle, .. Encoding.Latin1.GetBytes(tail)];

    /// <summary>A GET tagged <paramref name="tag"/> whose whole head (request line to the final CRLF) is exactly <paramref name="total"/> bytes.</summary>
    private static string Head(string tag, string path, int total)
    {
        const string name = "X-Fill: ";
        var builder = new StringBuilder($"GET {path} HTTP/1.1\r\n{H.Replace("{tag}", tag, StringComparison.Ordinal)}");
        var remaining = total - builder.Length - 2; // -2: the final CRLF
        // The filler is split into values of at most 4 KiB, so no single header is near any per-header limit.
        while (remaining > 0)
        {
            var value = Math.Min(4096, remaining - name.Length - 2);
            if (remaining - (name.Length + value + 2) is > 0 and < 16)
            {
                value -= 16; // leave room for a last filler line
            }
            builder.Append(name).Append('f', value).Append("\r\n");
            remaining -= name.Length + value + 2;
        }
        var head = builder.Append("\r\n").ToString();
        return head.Length == total ? head : throw new InvalidOperationException($"head is {head.Length} bytes, not {total}");
    }

    /// <summary>A GET with exactly <paramref name="count"/> header lines (Host and x-case included).</summary>
    private static string ManyHeaders(string path, int count)
    {
        var builder = new StringBuilder($"GET {path} HTTP/1.1\r\n{H}");
        for (var i = 2; i < count; i++)
        {
            builder.Append("X-H").Append(i).Append(": v\r\n");
        }
        return builder.Append("\r\n").ToString();
    }
}

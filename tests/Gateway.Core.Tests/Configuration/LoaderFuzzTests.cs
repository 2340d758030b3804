using System.Diagnostics;
using System.Globalization;
using System.Text;
using Gateway.Configuration;
using Xunit.Abstractions;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Feeds the loader mutations of the example and fixture configs and a set of hostile inputs, in
/// process: every input must load or end in an <see cref="EnvoyConfigException"/> (at most 100
/// errors, each naming its source), within 2 s. A failing input is saved to a file named in the
/// failure. Deterministic: the seed is printed, and <c>LOADER_FUZZ_SEED</c> / <c>LOADER_FUZZ_INPUTS</c>
/// change the run (e.g. a long local hunt with a new seed).
/// </summary>
[Collection(LoaderTimingCollection.Name)]
public sealed class LoaderFuzzTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20_261_201;
    private const string InputName = "fuzz.yaml";
    private const string BaseName = "base.yaml";

    private static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(2);

    // An input still running after this long is reported as hung (its thread is left behind).
    private static readonly TimeSpan HungInput = TimeSpan.FromSeconds(30);

    // Tokens that mean something to a YAML or JSON parser, inserted at random places.
    private static readonly string[] Tokens =
    [
        ":", ": ", "- ", "-", "? ", "{", "}", "[", "]", ",", "&a ", "*a", "&", "*", "!", "!!str ", "!ignore ", "!<tag:x> ", "|", "|-", ">", ">+",
        "'", "\"", "\\", "\\u", "#", "%", "%YAML 1.1\n", "%TAG ! tag:x,2026:\n", "---\n", "...\n", "<<: ", "\t", "\r", "\r\n", "\n", "\0", "\u0085",
        "\u2028", "\uFEFF", "\uFFFD", "~", "null", "true", "@type", "\"@type\": ", "{}", "[]", "*", "&x *x", "  ", "        ",
    ];

    // Values put in place of a scalar: numbers at and past every limit, odd spellings, long text.
    private static readonly string[] Values =
    [
        "-1", "0", "65536", "4294967296", "-9223372036854775808", "18446744073709551616", "1e400", "-0", "0x1F", "0o17", ".inf", ".nan", "NaN",
        "1_000", "+5", "5s", "-5s", "0.0000000001s", "315576000001s", "{ seconds: -9223372036854775808, nanos: -9223372036854775808 }", "\"\"", "''",
        "[]", "{}", "~", "!!binary aGVsbG8=", "\"\\uD800\"", "\"\\x00\"", "'" + new string('x', 5000) + "'", "ROUND_ROBIN", "2147483648", "[[[[[[[[[[1]]]]]]]]]]",
        "\"((a{1,10}){1,10}){1,10}$\"", "\"[\"", "*a", "&a 1",
    ];

    [Fact]
    public void Load_MutatedAndHostileConfigs_EndInConfigErrors()
    {
        var seed = EnvironmentInt("LOADER_FUZZ_SEED") ?? DefaultSeed;
        var inputs = EnvironmentInt("LOADER_FUZZ_INPUTS") ?? (Environment.GetEnvironmentVariable("CI") == "true" ? 4_000 : 2_000);
        var outDirectory = Path.Combine(Path.GetTempPath(), "gateway-loader-fuzz", $"seed-{seed}");
        Directory.CreateDirectory(outDirectory);
        // Written before each load: if the process dies (which no catch can report), the input survives.
        var current = Path.Combine(outDirectory, "current-input.yaml");
        output.WriteLine($"loader fuzz: seed {seed}, {inputs} inputs; inputs that fail are saved in {outDirectory}");
        Console.Error.WriteLine($"loader fuzz: seed {seed}; the input being loaded is kept in {current}");

        var corpus = Corpus();
        var hostile = Hostile();
        var random = new Random(seed);
        var failures = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        var slowest = (Elapsed: TimeSpan.Zero, Description: string.Empty);
        var loaded = 0;
        for (var i = 0; i < Math.Max(inputs, hostile.Count); i++)
        {
            var (description, bytes) = i < hostile.Count ? hostile[i] : Mutate(corpus[random.Next(corpus.Count)], random);
            // Every fifth mutation is laid over a good base, as --config-yaml is over -c.
            var overBase = i >= hostile.Count && i % 5 == 0;
            File.WriteAllBytes(current, bytes);
            var outcome = Run(bytes, overBase ? corpus[0].Bytes : null);
            if (outcome.Slow)
            {
                // Once more before calling it slow: a busy machine can stall any one load, a super-linear path is slow every time.
                outcome = Run(bytes, overBase ? corpus[0].Bytes : null);
            }
            slowest = outcome.Elapsed > slowest.Elapsed ? (outcome.Elapsed, description) : slowest;
            loaded += outcome.Loaded ? 1 : 0;
            if (outcome.Failure is { } failure)
            {
                var file = Path.Combine(outDirectory, $"input-{i}.yaml");
                File.WriteAllBytes(file, bytes);
                failures.Add($"input {i} ({description}{(overBase ? ", over " + corpus[0].Name : string.Empty)}), saved in {file}: {failure}");
            }
        }
        File.Delete(current);
        output.WriteLine($"loader fuzz: {Math.Max(inputs, hostile.Count)} inputs ({hostile.Count} hostile) in {stopwatch.Elapsed.TotalSeconds:F1} s, {loaded} loaded, slowest {slowest.Elapsed.TotalMilliseconds:F0} ms ({slowest.Description}), {failures.Count} failed");

        Assert.True(failures.Count == 0, $"loader fuzz (seed {seed}): {failures.Count} inputs failed:\n" + string.Join("\n", failures.Take(20)));
    }

    private static Outcome Run(byte[] bytes, byte[]? baseBytes)
    {
        var task = Task.Run(() =>
        {
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var sources = new List<ConfigSource>(2);
                if (baseBytes is not null)
                {
                    sources.Add(new ConfigSource(BaseName, ConfigText.Decode(BaseName, baseBytes)));
                }
                sources.Add(new ConfigSource(InputName, ConfigText.Decode(InputName, bytes)));
                EnvoyConfigLoader.Load(sources, Types);
                return new Outcome(stopwatch.Elapsed, Loaded: true, Failure: null);
            }
            catch (EnvoyConfigException ex)
            {
                return new Outcome(stopwatch.Elapsed, Loaded: false, Failure: Check(ex, baseBytes is not null));
            }
            catch (Exception ex)
            {
                return new Outcome(stopwatch.Elapsed, Loaded: false, Failure: $"{ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }
        });
        if (!task.Wait(HungInput))
        {
            return new Outcome(HungInput, Loaded: false, Failure: $"still loading after {HungInput.TotalSeconds} s");
        }
        var outcome = task.Result;
        return outcome.Elapsed > SlowInput && outcome.Failure is null
            ? outcome with { Failure = $"took {outcome.Elapsed.TotalMilliseconds:F0} ms, over the limit of {SlowInput.TotalMilliseconds} ms on two tries", Slow = true }
            : outcome;
    }

    /// <summary>What a config error must be: a few errors, each naming the document it is in, no stack trace.</summary>
    private static string? Check(EnvoyConfigException ex, bool withBase)
    {
        if (ex.Errors.Count is 0 or > ConfigErrorList.Limit)
        {
            return $"{ex.Errors.Count} errors reported (expected 1 to {ConfigErrorList.Limit})";
        }
        foreach (var error in ex.Errors)
        {
            if (error.Location.Source != InputName && !(withBase && error.Location.Source == BaseName))
            {
                return $"error without its source: {error}";
            }
            if (error.Message.Contains("   at ", StringComparison.Ordinal))
            {
                return $"error with a stack trace: {error}";
            }
        }
        return null;
    }

    private static (string Description, byte[] Bytes) Mutate(Seed seed, Random random)
    {
        var data = new List<byte>(seed.Bytes);
        var steps = random.Next(1, 4);
        var applied = new List<string>(steps);
        for (var step = 0; step < steps; step++)
        {
            applied.Add(MutateOnce(data, random));
        }
        return ($"{seed.Name}: {string.Join(", ", applied)}", data.ToArray());
    }

    private static string MutateOnce(List<byte> data, Random random)
    {
        if (data.Count == 0)
        {
            data.AddRange(Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
            return "insert into empty";
        }
        var at = random.Next(data.Count);
        switch (random.Next(11))
        {
            case 0:
                var value = (byte)random.Next(256);
                data[at] = value;
                return $"byte {at} = 0x{value:X2}";
            case 1:
                var bit = random.Next(8);
                data[at] ^= (byte)(1 << bit);
                return $"bit {bit} of byte {at} flipped";
            case 2:
                var length = Math.Min(random.Next(1, 17), data.Count - at);
                data.RemoveRange(at, length);
                return $"{length} bytes deleted at {at}";
            case 3:
                var bytes = new byte[random.Next(1, 9)];
                random.NextBytes(bytes);
                data.InsertRange(at, bytes);
                return $"{bytes.Length} random bytes inserted at {at}";
            case 4:
                var token = Tokens[random.Next(Tokens.Length)];
                data.InsertRange(at, Encoding.UTF8.GetBytes(token));
                return $"'{Escape(token)}' inserted at {at}";
            case 5:
                var (start, end) = LineAt(data, at);
                var line = data.GetRange(start, end - start);
                var target = LineAt(data, random.Next(data.Count)).Start;
                data.InsertRange(target, line);
                return $"line at {start} copied to {target}";
            case 6:
                var (from, to) = LineAt(data, at);
                data.RemoveRange(from, to - from);
                return $"line at {from} deleted";
            case 7:
                data.RemoveRange(at, data.Count - at);
                return $"truncated at {at}";
            case 8:
                var lineStart = LineAt(data, at).Start;
                switch (random.Next(3))
                {
                    case 0:
                        var spaces = random.Next(1, 5);
                        data.InsertRange(lineStart, Enumerable.Repeat((byte)' ', spaces));
                        return $"line at {lineStart} indented by {spaces}";
                    case 1:
                        var removable = 0;
                        while (lineStart + removable < data.Count && data[lineStart + removable] == ' ' && removable < 4)
                        {
                            removable++;
                        }
                        data.RemoveRange(lineStart, removable);
                        return $"line at {lineStart} dedented by {removable}";
                    default:
                        data.Insert(lineStart, (byte)'\t');
                        return $"tab before line at {lineStart}";
                }
            case 9:
                var (valueLine, valueEnd) = LineAt(data, at);
                var colon = data.IndexOf((byte)':', valueLine);
                if (colon < 0 || colon >= valueEnd)
                {
                    goto case 4;
                }
                var replacement = Values[random.Next(Values.Length)];
                data.RemoveRange(colon + 1, valueEnd - colon - 1);
                data.InsertRange(colon + 1, Encoding.UTF8.GetBytes(" " + replacement));
                return $"value on line at {valueLine} = '{Escape(replacement[..Math.Min(40, replacement.Length)])}'";
            default:
                var first = LineAt(data, at);
                var second = LineAt(data, random.Next(data.Count));
                if (first.Start == second.Start)
                {
                    goto case 6;
                }
                var (a, b) = first.Start < second.Start ? (first, second) : (second, first);
                var lineA = data.GetRange(a.Start, a.End - a.Start);
                var lineB = data.GetRange(b.Start, b.End - b.Start);
                data.RemoveRange(b.Start, b.End - b.Start);
                data.InsertRange(b.Start, lineA);
                data.RemoveRange(a.Start, a.End - a.Start);
                data.InsertRange(a.Start, lineB);
                return $"lines at {a.Start} and {b.Start} swapped";
        }
    }

    /// <summary>The line holding <paramref name="index"/>, with its newline.</summary>
    private static (int Start, int End) LineAt(List<byte> data, int index)
    {
        var start = index;
        while (start > 0 && data[start - 1] != '\n')
        {
            start--;
        }
        var end = index;
        while (end < data.Count && data[end] != '\n')
        {
            end++;
        }
        return (start, Math.Min(end + 1, data.Count));
    }

    private static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    /// <summary>The configs mutated: the examples, the fixtures, and small hostile ones.</summary>
    private static List<Seed> Corpus()
    {
        var seeds = new List<Seed>();
        foreach (var file in Directory.GetFiles(Path.Combine(TestConfigs.RepositoryRoot, "examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            seeds.Add(new Seed("examples/" + Path.GetFileName(file), File.ReadAllBytes(file)));
        }
        Assert.True(seeds.Count >= 4, "the examples were not found");
        seeds.Add(new Seed("Golden/features.yaml", File.ReadAllBytes(Path.Combine(TestConfigs.RepositoryRoot, "tests", "Gateway.Core.Tests", "Translation", "Golden", "features.yaml"))));
        seeds.Add(Text("TestConfigs.Seed", TestConfigs.Seed()));
        seeds.Add(Text("TestConfigs.Backends", TestConfigs.Backends("backend", [8081, 8082], "    circuit_breakers: { thresholds: [ { max_connections: 10 } ] }")));
        seeds.Add(Text("seed as JSON", SeedJson));
        seeds.Add(Text("alias bomb", HostileConfigs.ListenerAliasBomb()));
        seeds.Add(Text("billion laughs", HostileConfigs.BillionLaughs()));
        return seeds;
    }

    /// <summary>Inputs run once each, before the mutations.</summary>
    private static List<(string Description, byte[] Bytes)> Hostile()
    {
        const int deep = 20_000;
        var seed = TestConfigs.Seed();
        var inputs = new List<(string, string)>
        {
            ("deep flow lists", "static_resources: " + new string('[', deep) + new string(']', deep)),
            ("deep flow mappings", "static_resources: " + string.Concat(Enumerable.Repeat("{a: ", deep)) + "1" + new string('}', deep)),
            ("deep JSON", "{\"static_resources\": " + string.Concat(Enumerable.Repeat("{\"a\": ", deep)) + "1" + new string('}', deep + 1)),
            ("deep block lists", "static_resources:\n  clusters:\n  " + string.Concat(Enumerable.Repeat("- ", deep)) + "x\n"),
            ("deep block mappings", string.Concat(Enumerable.Range(0, 1_500).Select(i => new string(' ', i) + "a:\n")) + new string(' ', 1_500) + "b\n"),
            ("deep unclosed", "static_resources: " + new string('[', deep)),
            ("alias nested past the limit", "a: &deep " + new string('[', 60) + new string(']', 60) + "\nb: " + new string('[', 60) + "*deep" + new string(']', 60)),
            ("listener alias bomb", HostileConfigs.ListenerAliasBomb()),
            ("billion laughs", HostileConfigs.BillionLaughs()),
            ("mapping alias bomb", MappingBomb()),
            ("120,000 aliases of one scalar", "!ignore x: &s 1\nstatic_resources: { clusters: [" + string.Join(",", Enumerable.Repeat("*s", 120_000)) + "] }"),
            ("aliases as keys", "!ignore k: &k name\nadmin: { *k : 1, *k : 2 }"),
            ("anchor redefined", "!ignore a: &a 1\n!ignore b: &a [x]\nadmin: *a"),
            ("unknown alias", "admin: *nowhere"),
            ("20,000 unknown keys", HostileConfigs.WideCluster(20_000)),
            ("20,000 duplicate keys", HostileConfigs.WideCluster(20_000, duplicate: true)),
            ("20,000 top-level keys", string.Concat(Enumerable.Range(0, 20_000).Select(i => $"k{i}: {i}\n"))),
            ("2,000 clusters", TwoThousandClusters()),
            ("50,000 domains", seed.Replace("domains: [\"*\"]", "domains: [" + string.Join(",", Enumerable.Range(0, 50_000).Select(i => $"d{i % 1000}")) + "]", StringComparison.Ordinal)),
            ("5 MB name", seed.Replace("name: httpbin-demo", "name: " + new string('n', 5_000_000), StringComparison.Ordinal)),
            ("1 MB key", "admin: { \"" + new string('k', 1_000_000) + "\": 1 }"),
            ("1 MB plain key", "admin:\n  " + new string('k', 1_000_000) + ": 1\n"),
            ("1 MB escapes", seed.Replace("stat_prefix: ingress_http", "stat_prefix: \"" + string.Concat(Enumerable.Repeat("\\u0041\\t", 150_000)) + "\"", StringComparison.Ordinal)),
            ("1 MB literal block", seed.Replace("stat_prefix: ingress_http", "stat_prefix: |\n" + string.Concat(Enumerable.Repeat("            text\n", 60_000)), StringComparison.Ordinal)),
            ("1 MB anchor name", "admin: &" + new string('a', 1_000_000) + " {}"),
            ("1 MB tag", "admin: !" + new string('t', 1_000_000) + " {}"),
            ("1 MB comment", "# " + new string('c', 1_000_000) + "\n" + seed),
            ("tab indentation", seed.Replace("      lb_policy: ROUND_ROBIN", "\t  lb_policy: ROUND_ROBIN", StringComparison.Ordinal)),
            ("tab after a value", seed.Replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBIN\t\t", StringComparison.Ordinal)),
            ("tabs in flow", seed.Replace("{ address: 0.0.0.0, port_value: 15000 }", "{\taddress:\t0.0.0.0,\tport_value:\t15000\t}", StringComparison.Ordinal)),
            ("duplicate top-level key", seed + "\nadmin: {}\n"),
            ("duplicate snake and camel case", seed.Replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBIN\n      lbPolicy: RANDOM", StringComparison.Ordinal)),
            ("second document", seed + "\n---\n" + seed),
            ("10,000 documents", string.Concat(Enumerable.Repeat("---\na: 1\n", 10_000))),
            ("directives", "%YAML 1.2\n%TAG !e! tag:example.com,2026:\n---\nadmin: !e!x {}\n"),
            ("bad directive", "%YAML 9.9\n---\nadmin: {}\n"),
            ("merge key", "!ignore d: &d { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }\nadmin: { <<: *d }"),
            ("merge key list", "!ignore d: &d { a: 1 }\nadmin: { <<: [*d, *d] }"),
            ("tags", "admin: !!map { address: !!binary aGVsbG8= }\nstatic_resources: !<tag:yaml.org,2002:str> x"),
            ("complex keys", "? [a, b]\n: c\n? {x: y}\n: z\n"),
            ("flow complex key", "{[a]: b, {c: d}: e}"),
            ("NUL", seed.Replace("httpbin_service", "httpbin\0service", StringComparison.Ordinal)),
            ("control characters", "admin: \u0001\u0002\u007f\u0085\u2028x"),
            ("lone surrogates", "admin: { address: \"\uD800\" }\nstatic_resources: \uDC00"),
            ("only a BOM", "\uFEFF"),
            ("BOM in the middle", seed.Insert(seed.Length / 2, "\uFEFF")),
            ("JSON trailing comma", "{\"admin\": {},}"),
            ("JSON NaN", "{\"admin\": {\"address\": NaN}}"),
            ("JSON duplicate keys", "{\"admin\": {}, \"admin\": {}}"),
            ("JSON unterminated string", "{\"admin\": \"" + new string('x', 10_000)),
            ("huge number", seed.Replace("port_value: 8000", "port_value: " + new string('9', 100_000), StringComparison.Ordinal)),
            ("negative zero port", seed.Replace("port_value: 8000", "port_value: -0", StringComparison.Ordinal)),
            ("duration extremes", seed.Replace("connect_timeout: 5s", "connect_timeout: { seconds: -9223372036854775808, nanos: -9223372036854775808 }", StringComparison.Ordinal)),
            ("duration overflow", seed.Replace("connect_timeout: 5s", "connect_timeout: 99999999999999999999.999999999s", StringComparison.Ordinal)),
        };
        foreach (var text in new[] { "", " ", "\n", "#", "---", "...", "- ", ":", "?", "&a", "*a", "!", "|", ">", "'", "\"", "[", "{", "}", "]", "~", "null", "[]", "{}", "a", "- - -", "{a: [}", "[a: {]", "@", "`", "%", "&a &b x", "*a *b" })
        {
            inputs.Add(($"tiny '{Escape(text)}'", text));
        }

        var hostile = inputs.Select(i => (i.Item1, Encoding.UTF8.GetBytes(i.Item2))).ToList();
        var seedBytes = Encoding.UTF8.GetBytes(seed);
        hostile.Add(("invalid UTF-8 0xFF", Splice(seedBytes, seedBytes.Length / 2, [0xFF])));
        hostile.Add(("overlong UTF-8", Splice(seedBytes, seedBytes.Length / 2, [0xC0, 0xAF])));
        hostile.Add(("UTF-8 encoded surrogate", Splice(seedBytes, seedBytes.Length / 2, [0xED, 0xA0, 0x80])));
        hostile.Add(("UTF-8 truncated at the end", [.. seedBytes, 0xE2, 0x82]));
        hostile.Add(("UTF-8 BOM", [0xEF, 0xBB, 0xBF, .. seedBytes]));
        hostile.Add(("two UTF-8 BOMs", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. seedBytes]));
        hostile.Add(("UTF-16 LE", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(seed)]));
        hostile.Add(("UTF-16 BE", [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(seed)]));
        hostile.Add(("UTF-16 odd length", [0xFE, 0xFF, 0x00, 0x61, 0x00]));
        hostile.Add(("UTF-16 lone surrogate", [0xFF, 0xFE, 0x61, 0x00, 0x00, 0xD8, 0x3A, 0x00]));
        hostile.Add(("UTF-32 LE", [0xFF, 0xFE, 0x00, 0x00, .. Encoding.UTF32.GetBytes(seed)]));
        hostile.Add(("UTF-32 beyond U+10FFFF", [0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00]));
        var random = new Random(1);
        var noise = new byte[64 * 1024];
        random.NextBytes(noise);
        hostile.Add(("64 KB of random bytes", noise));
        return hostile;
    }

    private static string MappingBomb()
    {
        var builder = new StringBuilder("!ignore m0: &m0 {").AppendJoin(", ", Enumerable.Range(0, 20).Select(i => $"k{i}: v")).Append("}\n");
        for (var level = 1; level <= 8; level++)
        {
            builder.Append($"!ignore m{level}: &m{level} {{").AppendJoin(", ", Enumerable.Range(0, 20).Select(i => $"k{i}: *m{level - 1}")).Append("}\n");
        }
        return builder.Append("admin: *m8\n").ToString();
    }

    private static string TwoThousandClusters()
    {
        var builder = new StringBuilder("static_resources:\n  clusters:\n");
        for (var i = 0; i < 2_000; i++)
        {
            builder.Append(CultureInfo.InvariantCulture, $"  - {{ name: c{i}, type: STATIC, connect_timeout: 1s, load_assignment: {{ endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {1 + (i % 60000)} }} }} }} }} ] }} ] }} }}\n");
        }
        return builder.ToString();
    }

    private static byte[] Splice(byte[] bytes, int at, byte[] insert) => [.. bytes.AsSpan(0, at), .. insert, .. bytes.AsSpan(at)];

    private static Seed Text(string name, string text) => new(name, Encoding.UTF8.GetBytes(text));

    private static int? EnvironmentInt(string name)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();

    private const string SeedJson = """
        {"admin": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 9901}}},
         "static_resources": {
           "listeners": [{"name": "l", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 10000}},
             "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
               "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                 "stat_prefix": "ingress_http", "http_filters": [{"name": "envoy.filters.http.router"}],
                 "route_config": {"virtual_hosts": [{"name": "v", "domains": ["*"],
                   "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "c", "timeout": "1.5s"}}]}]}}}]}]}],
           "clusters": [{"name": "c", "type": "STATIC", "connect_timeout": "0.25s",
             "load_assignment": {"endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": "8080"}}}}]}]}}]}}
        """;

    private sealed record Seed(string Name, byte[] Bytes);

    private sealed record Outcome(TimeSpan Elapsed, bool Loaded, string? Failure, bool Slow = false);
}

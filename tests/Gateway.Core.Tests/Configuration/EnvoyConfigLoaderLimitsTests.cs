using System.Diagnostics;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Hostile and damaged inputs: each ends in a config error with its position, within bounded time
/// and memory, never in another exception (issue 9). The random mix of such inputs is <see cref="LoaderFuzzTests"/>.
/// </summary>
[Collection(LoaderTimingCollection.Name)]
public sealed class EnvoyConfigLoaderLimitsTests
{
    // Loose bounds, only to tell linear from the quadratic or exponential behaviour these tests guard
    // against (100,000 keys took 16 to 110 s before, now well under 1 s; the alias bomb took a minute
    // and 10 GB); never a benchmark.
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(10);

    private static EnvoyConfigException LoadFails(string yaml, string source = "envoy.yaml")
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, source));

    [Theory]
    [InlineData("flow lists")]
    [InlineData("flow mappings")]
    [InlineData("block lists")]
    public void Load_DeeplyNestedYaml_ReportsDepthError(string shape)
    {
        const int levels = 20_000;
        var yaml = shape switch
        {
            "flow lists" => "static_resources: " + new string('[', levels) + new string(']', levels),
            "flow mappings" => "static_resources: " + string.Concat(Enumerable.Repeat("{a: ", levels)) + "1" + new string('}', levels),
            _ => "static_resources:\n  listeners:\n  " + string.Concat(Enumerable.Repeat("- ", levels)) + "x\n",
        };

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("nesting deeper than 100 levels of mappings and lists (JSON content was too deeply nested: Envoy's protobuf JSON parser allows 100)", error.Message);
        Assert.Equal("envoy.yaml", error.Location.Source);
        Assert.Equal(1 + (shape == "block lists" ? 2 : 0), error.Location.Line);
        Assert.True(error.Location.Column > 1);
    }

    [Fact]
    public void Load_NestingAtTheLimit_IsReadAndNestingPastItIsNot()
    {
        // The root mapping is level 1 and static_resources' value level 2: 98 more lists reach 100.
        static string Nested(int lists) => "static_resources: {listeners: " + new string('[', lists) + new string(']', lists) + "}";

        var atLimit = LoadFails(Nested(98)).Errors;
        var pastLimit = LoadFails(Nested(99)).Errors;

        Assert.DoesNotContain(atLimit, e => e.Message.StartsWith("nesting deeper", StringComparison.Ordinal));
        Assert.StartsWith("nesting deeper than 100 levels", Assert.Single(pastLimit).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AliasNestedPastTheLimit_ReportsDepthError()
    {
        // Each half nests 60 levels; only the alias puts one inside the other.
        var yaml = "a: &deep " + new string('[', 60) + new string(']', 60) + "\nb: " + new string('[', 60) + "*deep" + new string(']', 60) + "\n";

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.StartsWith("nesting deeper than 100 levels", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Location.Line);
        Assert.Equal(64, error.Location.Column);
    }

    [Fact]
    public void Load_AliasBomb_ReportsExpansionLimit()
    {
        var yaml = HostileConfigs.ListenerAliasBomb();
        Assert.True(yaml.Length < 4096, $"the bomb is {yaml.Length} characters");

        var stopwatch = Stopwatch.StartNew();
        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.True(stopwatch.Elapsed < Quickly, $"took {stopwatch.Elapsed}");
        Assert.Equal("YAML aliases expand to more than 100000 nodes (the limit against alias bombs); write the repeated parts out or use fewer aliases", error.Message);
        Assert.True(error.Location.Line > 1);
    }

    [Fact]
    public void Load_ClassicBillionLaughs_ReportsExpansionLimit()
    {
        var error = Assert.Single(LoadFails(HostileConfigs.BillionLaughs()).Errors);

        Assert.StartsWith("YAML aliases expand to more than 100000 nodes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AliasesWithinTheLimit_AreExpanded()
    {
        var yaml = TestConfigs.Seed().Replace(
            "              - match: { prefix: \"/\" }\n                route:\n                  auto_host_rewrite: true\n                  cluster: httpbin_service",
            "              - &r { match: { prefix: \"/a\" }, route: { cluster: httpbin_service } }\n              - *r\n              - *r",
            StringComparison.Ordinal);
        Assert.Contains("*r", yaml, StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        var hcm = (HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!;
        var routes = hcm.RouteConfig!.VirtualHosts[0].Routes;
        Assert.Equal(3, routes.Count);
        Assert.All(routes, r => Assert.Equal("/a", r.Match!.Prefix));
    }

    [Fact]
    public void Load_HundredThousandKeys_FinishesQuickly()
    {
        var yaml = HostileConfigs.WideCluster(100_000);

        var stopwatch = Stopwatch.StartNew();
        var ex = LoadFails(yaml);

        Assert.True(stopwatch.Elapsed < Quickly, $"took {stopwatch.Elapsed}");
        Assert.Equal(100, ex.Errors.Count);
        Assert.Equal(100_000 - 100, ex.OmittedErrorCount);
        Assert.Equal("unknown field 'k0' in envoy.config.cluster.v3.Cluster", ex.Errors[0].Message);
    }

    [Fact]
    public void Load_HundredThousandDuplicateKeys_FinishesQuicklyReportingEach()
    {
        var yaml = HostileConfigs.WideCluster(100_000, duplicate: true);

        var stopwatch = Stopwatch.StartNew();
        var ex = LoadFails(yaml);

        Assert.True(stopwatch.Elapsed < Quickly, $"took {stopwatch.Elapsed}");
        Assert.Equal("duplicate field 'name'", ex.Errors[0].Message);
        Assert.Equal("static_resources.clusters[0].name", ex.Errors[0].Location.Path);
        Assert.Equal(100_000 - 1, ex.Errors.Count + ex.OmittedErrorCount);
    }

    [Fact]
    public void Load_DuplicateKeysInSmallAndLargeMappings_AreBothFound()
    {
        var small = LoadFails(TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      lb_policy: RANDOM", StringComparison.Ordinal));
        var large = LoadFails("admin: {" + string.Join(", ", Enumerable.Range(0, 40).Select(i => $"k{i}: 1")) + ", k3: 2}");

        Assert.Equal("duplicate field 'lb_policy'", Assert.Single(small.Errors).Message);
        Assert.Contains(large.Errors, e => e.Message == "duplicate field 'k3'");
    }

    [Fact]
    public void Load_ManyErrors_ReportsTheFirstHundredAndCountsTheRest()
    {
        var ex = LoadFails(HostileConfigs.WideCluster(250));

        Assert.Equal(100, ex.Errors.Count);
        Assert.Equal(150, ex.OmittedErrorCount);
        Assert.Equal("static_resources.clusters[0].k99", ex.Errors[^1].Location.Path);
        Assert.StartsWith("250 errors:", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("  ... and 150 more (only the first 100 errors are reported)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ManyValidationErrors_AreCappedToo()
    {
        var clusters = string.Concat(Enumerable.Repeat("  - { name: dup, type: STATIC }\n", 300));

        var ex = LoadFails("static_resources:\n  clusters:\n" + clusters);

        Assert.Equal(100, ex.Errors.Count);
        Assert.Equal(199, ex.OmittedErrorCount);
        Assert.All(ex.Errors, e => Assert.Equal("duplicate cluster name 'dup': cluster names must be unique", e.Message));
    }

    [Theory]
    [InlineData(": {\nt")]
    [InlineData("admin:\n  address:\n    socket_address: {#address: 0.0.0.0, port_value: 15000 }\n")]
    public void Load_InputThatBreaksTheYamlScanner_ReportsParseErrorWithPosition(string yaml)
    {
        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.StartsWith("unable to parse YAML/JSON: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line > 0);
    }

    [Fact]
    public void Load_TabIndentation_ReportsParseErrorWithPosition()
    {
        var yaml = TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "\t  lb_policy: ROUND_ROBIN", StringComparison.Ordinal);
        var tabLine = yaml[..yaml.IndexOf('\t', StringComparison.Ordinal)].Count(c => c == '\n') + 1;

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.StartsWith("unable to parse YAML/JSON: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("tab", error.Message, StringComparison.Ordinal);
        // YamlDotNet names the start of the scalar the tab interrupts: the line before.
        Assert.InRange(error.Location.Line, tabLine - 1, tabLine);
    }

    [Fact]
    public void Load_InvalidUtf8File_ReportsBytesAndPosition()
    {
        // "é" (0xC3 0xA9) once, then its continuation byte broken: a lead byte followed by '('.
        var yaml = TestConfigs.Seed().Replace("stat_prefix: ingress_http", "stat_prefix: \u00e9ingress_\u00e9http", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(yaml);
        var broken = Array.LastIndexOf(bytes, (byte)0xC3);
        bytes[broken + 1] = 0x28;
        var brokenChar = yaml.LastIndexOf('\u00e9');
        var line = yaml[..brokenChar].Count(c => c == '\n') + 1;
        var column = brokenChar - yaml.LastIndexOf('\n', brokenChar);

        var ex = LoadFile(bytes, out var path);

        var error = Assert.Single(ex.Errors);
        Assert.Equal("invalid UTF-8 (bytes 0xC3286874): a configuration file must be UTF-8, or UTF-16/UTF-32 with a byte order mark", error.Message);
        Assert.Equal(path, error.Location.Source);
        Assert.Equal(line, error.Location.Line);
        Assert.Equal(column, error.Location.Column);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    public void Load_FileWithByteOrderMark_Loads(string encodingName)
    {
        var encoding = Encoding.GetEncoding(encodingName);
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(TestConfigs.Seed())).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"gateway-bom-{Guid.NewGuid():N}.yaml");
        File.WriteAllBytes(path, bytes);
        try
        {
            var bootstrap = EnvoyConfigLoader.Load(path, null);

            Assert.Equal("httpbin-demo", bootstrap.StaticResources!.Listeners[0].Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_HugeScalar_IsShortenedInTheError()
    {
        var huge = new string('9', 5_000_000);
        var yaml = TestConfigs.Seed().Replace("port_value: 8000", $"port_value: {huge}", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal($"expected an unsigned 32-bit integer, got '{huge[..256]}...' (5000000 characters)", error.Message);
    }

    [Fact]
    public void Load_HugeUnknownKey_IsShortenedInPathAndMessage()
    {
        var key = new string('k', 1_000_000);

        // Validation reports the admin's missing address in the same report (the key is too far from any field to be a misspelling of it).
        var errors = LoadFails($"admin: {{ \"{key}\": 1 }}").Errors;
        Assert.Equal(2, errors.Count);
        Assert.Equal("'address' is required", errors[0].Message);
        var error = errors[1];

        Assert.Equal($"admin.{key[..256]}...", error.Location.Path);
        Assert.StartsWith($"unknown field '{key[..256]}...' (1000000 characters) in envoy.config.bootstrap.v3.Admin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MergeKey_IsRejectedAsEnvoyDoes()
    {
        var error = Assert.Single(LoadFails("admin: &a { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }\nstatic_resources: { <<: *a }").Errors);

        Assert.Equal("static_resources.<<", error.Location.Path);
        Assert.Equal("unknown field '<<' in envoy.config.bootstrap.v3.Bootstrap.StaticResources: YAML merge keys are not supported (Envoy's YAML parser reads '<<' as a field name)", error.Message);
    }

    [Fact]
    public void Load_IgnoreTaggedKey_IsDroppedAsEnvoyDoes()
    {
        var yaml = "!ignore defaults: &address { socket_address: { address: 127.0.0.1, port_value: 9901 } }\n" + TestConfigs.Seed()
            .Replace("admin:\n  address:\n    socket_address: { address: 0.0.0.0, port_value: 15000 }", "admin:\n  address: *address", StringComparison.Ordinal);
        Assert.Contains("*address", yaml, StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        Assert.Equal(9901u, bootstrap.Admin!.Address!.SocketAddress!.PortValue);
    }

    [Fact]
    public void Load_VerbatimTaggedNull_IsAString()
    {
        var yaml = TestConfigs.Seed().Replace("stat_prefix: ingress_http", "stat_prefix: ! null", StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        Assert.Equal("null", ((HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!).StatPrefix);
    }

    [Theory]
    [InlineData("!!str 15000", 15000u)]
    [InlineData("!custom 15000", 15000u)]
    public void Load_OtherTags_AreIgnoredAsEnvoyDoes(string value, uint expected)
    {
        var yaml = TestConfigs.Seed().Replace("port_value: 15000 }", $"port_value: {value} }}", StringComparison.Ordinal);

        Assert.Equal(expected, EnvoyConfigLoader.LoadYaml(yaml).Admin!.Address!.SocketAddress!.PortValue);
    }

    [Fact]
    public void Load_SecondDocument_IsRejectedWithItsPosition()
    {
        var seed = TestConfigs.Seed().TrimEnd('\n') + "\n";
        var error = Assert.Single(LoadFails(seed + "---\nadmin: {}\n").Errors);

        Assert.Equal("a bootstrap file must hold exactly one YAML document", error.Message);
        Assert.Equal(seed.Count(c => c == '\n') + 1, error.Location.Line);
    }

    [Fact]
    public void Load_UnknownAlias_IsReported()
    {
        var error = Assert.Single(LoadFails("admin: *nowhere").Errors);

        Assert.Equal("unknown YAML alias '*nowhere'", error.Message);
        Assert.Equal(1, error.Location.Line);
        Assert.Equal(8, error.Location.Column);
    }

    [Theory]
    [InlineData("{ seconds: -9223372036854775808 }")]
    [InlineData("{ seconds: 315576000001 }")]
    [InlineData("{ seconds: 1, nanos: -9223372036854775808 }")]
    public void Load_DurationObjectOutOfRange_IsRejected(string value)
    {
        var yaml = TestConfigs.Seed().Replace("connect_timeout: 5s", $"connect_timeout: {value}", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("a duration object takes only integer 'seconds' (|seconds| <= 315576000000) and 'nanos' (|nanos| < 1e9)", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n")]
    [InlineData("# only a comment\n")]
    [InlineData("~")]
    [InlineData("---\n...\n")]
    public void Load_EmptyDocument_IsAnEmptyBootstrapWithoutResources(string yaml)
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        Assert.Null(bootstrap.StaticResources);
    }

    [Theory]
    [InlineData("[]", "expected a mapping for envoy.config.bootstrap.v3.Bootstrap, got a list")]
    [InlineData("just text", "expected a mapping for envoy.config.bootstrap.v3.Bootstrap, got 'just text'")]
    public void Load_RootThatIsNotAMapping_IsRejected(string yaml, string message)
    {
        Assert.Equal(message, Assert.Single(LoadFails(yaml).Errors).Message);
    }

    private static EnvoyConfigException LoadFile(byte[] bytes, out string path)
    {
        var file = Path.Combine(Path.GetTempPath(), $"gateway-bytes-{Guid.NewGuid():N}.yaml");
        path = file;
        File.WriteAllBytes(file, bytes);
        try
        {
            return Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(file, null));
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>Tests with loose time bounds run alone, not next to the rest of the suite.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoaderTimingCollection
{
    public const string Name = "Loader timing";
}

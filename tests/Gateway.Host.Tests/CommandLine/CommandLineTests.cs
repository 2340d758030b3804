namespace Gateway.Tests.CommandLine;

/// <summary>The gateway's Envoy-compatible command line, run as a real process (no upstream needed).</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("examples/simple.yaml")]
    [InlineData("examples/simple_change_timeout.yaml")]
    [InlineData("examples/simple_retry.yaml")]
    public async Task ValidateMode_SeedConfig_PrintsOkAndExitsZero(string path)
    {
        var result = await GatewayCli.RunAsync("--mode", "validate", "-c", path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"configuration '{path}' OK\n", result.Stdout);
    }

    [Fact]
    public async Task ValidateMode_UnknownField_ExitsOneNamingPathAndPosition()
    {
        var yaml = File.ReadAllText(Path.Combine(EndToEnd.TestPaths.ExamplesDirectory, "simple.yaml")).ReplaceLineEndings("\n");
        yaml = EndToEnd.SeedConfig.ReplaceOnce(yaml, "      lb_policy: ROUND_ROBIN\n", "      lb_polcy: ROUND_ROBIN\n");
        var lines = yaml.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("lb_polcy", StringComparison.Ordinal)) + 1;
        var column = lines[line - 1].IndexOf("lb_polcy", StringComparison.Ordinal) + 1;
        var file = Path.Combine(Path.GetTempPath(), $"gateway-cli-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            var result = await GatewayCli.RunAsync("--mode", "validate", "-c", file);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("static_resources.clusters[0].lb_polcy", result.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{line}:{column}", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("OK", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ValidateMode_ConfigYamlOnly_PrintsOkWithEmptyPath()
    {
        var yaml = File.ReadAllText(Path.Combine(EndToEnd.TestPaths.ExamplesDirectory, "simple.yaml"));

        var result = await GatewayCli.RunAsync("--mode", "validate", "--config-yaml", yaml);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("configuration '' OK\n", result.Stdout);
    }

    [Fact]
    public async Task ValidateMode_DrainFlags_Accepted()
    {
        var yaml = File.ReadAllText(Path.Combine(EndToEnd.TestPaths.ExamplesDirectory, "simple.yaml"));

        var result = await GatewayCli.RunAsync("--mode", "validate", "--drain-time-s", "30", "--drain-strategy", "immediate", "--config-yaml", yaml);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("--drain-strategy", "sudden", "error: unknown drain strategy 'sudden'")]
    [InlineData("--drain-time-s", "-1", "error: invalid value for --drain-time-s: '-1'")]
    public async Task Run_BadDrainFlag_ExitsOneNamingIt(string flag, string value, string message)
    {
        var result = await GatewayCli.RunAsync(flag, value, "--config-yaml", "admin: {}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoConfig_ExitsOneWithEnvoyMessage()
    {
        var result = await GatewayCli.RunAsync();

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("At least one of --config-path or --config-yaml or Options::configProto() should be non-empty", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_Flag_ExitsZeroListingConfigPath()
    {
        var result = await GatewayCli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--config-path", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_Flag_ExitsZeroPrintingVersion()
    {
        var result = await GatewayCli.RunAsync("--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"version: \S*\d+\.\d+\.\d+", result.Stdout);
    }

    [Fact]
    public async Task Run_UnknownFlag_ExitsOneNamingIt()
    {
        var result = await GatewayCli.RunAsync("--no-such-flag", "-c", "examples/simple.yaml");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--no-such-flag", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownMode_ExitsOneWithEnvoyMessage()
    {
        var result = await GatewayCli.RunAsync("--mode", "bogus", "-c", "examples/simple.yaml");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error: unknown mode 'bogus'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InvalidLogLevel_ExitsOneWithEnvoyMessage()
    {
        var result = await GatewayCli.RunAsync("-l", "nonsense", "-c", "examples/simple.yaml");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error: invalid log level specified 'nonsense'", result.Stderr, StringComparison.Ordinal);
    }
}

public sealed class InitOnlyModeTests
{
    [Fact]
    public async Task InitOnlyMode_ValidConfig_InitialisesAndExitsZeroWithoutServing()
    {
        var result = await GatewayCli.RunAsync("--mode", "init_only", "-c", "examples/quickstart.yaml");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("initializing gateway version", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("starting main dispatch loop", result.Stderr, StringComparison.Ordinal);
    }
}

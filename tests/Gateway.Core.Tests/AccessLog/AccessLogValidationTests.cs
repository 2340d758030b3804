using Gateway.Configuration;
using Gateway.Tests;

namespace Gateway.Tests.AccessLog;

public sealed class AccessLogValidationTests
{
    private static IReadOnlyList<ConfigError> Errors(string accessLog)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields(accessLog), "envoy.yaml")).Errors;

    [Fact]
    public void Load_UnknownResponseFlag_IsAnErrorAtTheFlags()
    {
        var errors = Errors("""
                      access_log:
                      - name: envoy.access_loggers.stdout
                        filter: { response_flag_filter: { flags: [UH, XX] } }
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
            """);

        Assert.Contains(errors, e => e.Message.Contains("'flags[1]': 'XX' is not a response flag", StringComparison.Ordinal) && e.Location.Path.EndsWith("flags", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_FilterProblems_AreAllReported()
    {
        var errors = Errors("""
                      access_log:
                      - name: envoy.access_loggers.stdout
                        filter:
                          and_filter:
                            filters:
                            - status_code_filter: {}
                      - name: envoy.access_loggers.stdout
                        filter: { runtime_filter: { percent_sampled: { numerator: 1 } } }
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
                      - name: envoy.access_loggers.file
                        filter: { extension_filter: { name: x } }
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog }
            """);

        Assert.Contains(errors, e => e.Message.Contains("'filters' needs at least 2 filters", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("'comparison' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("'typed_config' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("'runtime_key' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Path.EndsWith("extension_filter", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("'path' is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AccessLoggerOfAnotherCategory_IsRefused()
    {
        var errors = Errors("""
                      access_log:
                      - name: x
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
            """);

        Assert.Contains(errors, e => e.Location.Path.Contains("access_log", StringComparison.Ordinal));
    }
}

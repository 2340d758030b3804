using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public class ConfigErrorListTests
{
    private static ConfigError At(string source, int line) => new(new SourceLocation(source, "f", line, 1), $"{source}:{line}");

    [Fact]
    public void Add_OutOfOrder_KeepsDocumentOrderBySourceInLoadOrder()
    {
        var list = new ConfigErrorList(["b.yaml", "a.yaml"]);

        list.Add(At("a.yaml", 1));
        list.Add(At("b.yaml", 9));
        list.Add(At("b.yaml", 2));
        list.Add(new ConfigError(SourceLocation.None, "no source"));

        Assert.Equal(["no source", "b.yaml:2", "b.yaml:9", "a.yaml:1"], list.ToException().Errors.Select(e => e.Message));
    }

    [Fact]
    public void Add_PastTheLimit_KeepsTheFirstInDocumentOrderAndCountsTheRest()
    {
        var list = new ConfigErrorList(["envoy.yaml"]);
        for (var line = 1000; line > 0; line--)
        {
            list.Add(At("envoy.yaml", line));
        }

        var exception = list.ToException();

        Assert.Equal(1000, list.Count);
        Assert.Equal(ConfigErrorList.Limit, exception.Errors.Count);
        Assert.Equal(Enumerable.Range(1, ConfigErrorList.Limit), exception.Errors.Select(e => e.Location.Line));
        Assert.Equal(1000 - ConfigErrorList.Limit, exception.OmittedErrorCount);
    }
}

using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Logging;

/// <summary>Log event ids come from <c>LogEvents</c> and none is used twice.</summary>
public class LogEventsTests
{
    [Fact]
    public void LoggerMessages_AcrossTheGatewayAssemblies_HaveUniqueEventIds()
    {
        var assemblies = new[] { typeof(Gateway.Configuration.EnvoyMessage).Assembly, typeof(Gateway.Filters.BuiltInHttpFilters).Assembly, typeof(Gateway.Host.GatewayProgram).Assembly };
        var seen = new Dictionary<int, string>();
        var duplicates = new List<string>();
        foreach (var assembly in assemblies)
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is not { } attribute)
                    {
                        continue;
                    }
                    var name = $"{type.FullName}.{method.Name}";
                    if (!seen.TryAdd(attribute.EventId, name))
                    {
                        duplicates.Add($"{attribute.EventId}: {seen[attribute.EventId]} and {name}");
                    }
                }
            }
        }
        Assert.NotEmpty(seen);
        Assert.Empty(duplicates);
    }
}

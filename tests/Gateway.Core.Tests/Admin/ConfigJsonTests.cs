using System.Reflection;
using Gateway.Admin;
using Gateway.Configuration;

namespace Gateway.Tests.Admin;

/// <summary>The protobuf-JSON printing behind the admin API: <see cref="ProtoJson"/> formatting and <see cref="ConfigJson"/>'s model rendering.</summary>
public class ConfigJsonTests
{
    [Theory]
    [InlineData(50_000_000L, "5s")]
    [InlineData(2_500_000L, "0.250s")]
    [InlineData(15_000L, "0.001500s")]
    [InlineData(1L, "0.000000100s")]
    [InlineData(0L, "0s")]
    [InlineData(-15_000_000L, "-1.500s")]
    public void Duration_Ticks_PrintsProtobufDuration(long ticks, string expected)
        => Assert.Equal($"\"{expected}\"", ProtoJson.Duration(TimeSpan.FromTicks(ticks)).Json);

    [Theory]
    [InlineData(0, "2024-01-02T03:04:05Z")]
    [InlineData(6_780_000, "2024-01-02T03:04:05.678Z")]
    [InlineData(6_789_100, "2024-01-02T03:04:05.678910Z")]
    [InlineData(6_789_123, "2024-01-02T03:04:05.678912300Z")]
    public void Timestamp_Fraction_PrintsZeroThreeSixOrNineDigits(long ticks, string expected)
        => Assert.Equal($"\"{expected}\"", ProtoJson.Timestamp(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(ticks)).Json);

    [Fact]
    public void Quote_SpecialCharacters_EscapesAsProtobufDoes()
        => Assert.Equal("\"a\\\"b\\\\c\\n\\t\\u003cx\\u003e\\u0001é\"", ProtoJson.Quote("a\"b\\c\n\t<x>\u0001é"));

    [Fact]
    public void ToPrettyString_NestedValues_OneSpacePerLevelAndEmptyContainersInline()
    {
        var json = new ProtoObject()
            .Add("a", ProtoJson.Number(1))
            .Add("list", new ProtoList().Add(ProtoJson.String("x")).Add(new ProtoObject()))
            .Add("empty_list", new ProtoList())
            .Add("any", ProtoObject.Any("envoy.T").Add("b", ProtoJson.Bool(true)))
            .Add("empty_any", ProtoObject.Any("envoy.E"));

        Assert.Equal("""
            {
             "a": 1,
             "list": [
              "x",
              {}
             ],
             "empty_list": [],
             "any": {
              "@type": "type.googleapis.com/envoy.T",
              "b": true
             },
             "empty_any": {
              "@type": "type.googleapis.com/envoy.E"
             }
            }

            """, json.ToPrettyString());
    }

    [Fact]
    public void Message_ScalarsAndWrappers_PrintsOnlyWhatProtobufPrints()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml("""
            static_resources:
              clusters:
              - name: c
                type: STATIC
                lb_policy: ROUND_ROBIN
                connect_timeout: 0.25s
              listeners:
              - name: l
                address: { socket_address: { address: 0.0.0.0, port_value: 0 } }
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: s
                      generate_request_id: false
                      preserve_external_request_id: false
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                      route_config:
                        virtual_hosts:
                        - name: v
                          domains: ["*"]
                          routes:
                          - match:
                              prefix: ""
                              headers:
                              - name: x
                                range_match: { start: 1, end: 10 }
                            direct_response: { status: 200 }
            """);

        var json = ConfigJson.Message(bootstrap).ToPrettyString();

        Assert.Equal("""
            {
             "static_resources": {
              "listeners": [
               {
                "name": "l",
                "address": {
                 "socket_address": {
                  "address": "0.0.0.0",
                  "port_value": 0
                 }
                },
                "filter_chains": [
                 {
                  "filters": [
                   {
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                     "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                     "stat_prefix": "s",
                     "route_config": {
                      "virtual_hosts": [
                       {
                        "name": "v",
                        "domains": [
                         "*"
                        ],
                        "routes": [
                         {
                          "match": {
                           "prefix": "",
                           "headers": [
                            {
                             "name": "x",
                             "range_match": {
                              "start": "1",
                              "end": "10"
                             }
                            }
                           ]
                          },
                          "direct_response": {
                           "status": 200
                          }
                         }
                        ]
                       }
                      ]
                     },
                     "http_filters": [
                      {
                       "name": "envoy.filters.http.router",
                       "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                       }
                      }
                     ],
                     "generate_request_id": false
                    }
                   }
                  ]
                 }
                ]
               }
              ],
              "clusters": [
               {
                "name": "c",
                "type": "STATIC",
                "connect_timeout": "0.250s"
               }
              ]
             }
            }

            """, json);
    }

    /// <summary>Every field of every model message has its protobuf field number, so dumps print in protobuf's order.</summary>
    [Fact]
    public void FieldNumbers_EveryModelField_IsListed()
    {
        var missing = new List<string>();
        foreach (var type in typeof(EnvoyMessage).Assembly.GetTypes())
        {
            if (type.GetCustomAttribute<EnvoyTypeAttribute>() is not { } attribute || type.IsAbstract)
            {
                continue;
            }
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.DeclaringType == typeof(EnvoyMessage) || property.SetMethod is null)
                {
                    continue;
                }
                var name = property.GetCustomAttribute<EnvoyFieldAttribute>()?.Name ?? EnvoyNames.ToSnakeCase(property.Name);
                if (ProtoFieldNumbers.Find(attribute.FullName, name) is null && property.GetCustomAttribute<ProtoFieldAttribute>() is null)
                {
                    missing.Add(attribute.FullName + "." + name);
                }
            }
        }
        Assert.Empty(missing);
    }
}

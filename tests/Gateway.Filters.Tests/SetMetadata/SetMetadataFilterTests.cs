using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.SetMetadata;

/// <summary>envoy.filters.http.set_metadata: dynamic metadata seen by a later filter, merge rules, overwrite_denied.</summary>
public class SetMetadataFilterTests
{
    private const string Type = "type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config";

    [Fact]
    public async Task Request_Entries_MergedAsEnvoyDocumentsAndDeniedOverwriteCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var filters = $$"""
                  - name: first
                    typed_config:
                      "@type": {{Type}}
                      metadata:
                      - metadata_namespace: acme
                        value: { myint: 1, mylist: ["a"], mykey: ["val"], mytags: { tag0: 1 } }
                  - name: second
                    typed_config:
                      "@type": {{Type}}
                      metadata:
                      - metadata_namespace: acme
                        allow_overwrite: true
                        value: { myint: 2, mylist: ["b", "c"], mykey: 1, mytags: { tag1: 1 } }
                      - metadata_namespace: acme
                        value: { ignored: true }
                      - metadata_namespace: other
                        value: { s: text }
        {{FilterTestConfig.Probe}}
        """;
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, filters));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(
            """acme={"myint":2,"mylist":["a","b","c"],"mykey":1,"mytags":{"tag0":1,"tag1":1}};other={"s":"text"}""",
            Assert.Single(response.Headers.GetValues("x-metadata")));
        await gateway.AssertStatAsync("http.ingress_http.set_metadata.overwrite_denied", 1);

        using var again = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
        Assert.Equal(Assert.Single(response.Headers.GetValues("x-metadata")), Assert.Single(again.Headers.GetValues("x-metadata")));
        await gateway.AssertStatAsync("http.ingress_http.set_metadata.overwrite_denied", 2);
    }

    [Fact]
    public async Task Request_DeprecatedFields_MergeIntoTheNamespace()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var filters = $$"""
                  - name: first
                    typed_config: { "@type": {{Type}}, metadata: [{ metadata_namespace: ns, value: { a: 1, l: [1] } }] }
                  - name: second
                    typed_config: { "@type": {{Type}}, metadata_namespace: ns, value: { b: x, l: [2] } }
        {{FilterTestConfig.Probe}}
        """;
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, filters));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal("""ns={"a":1,"l":[1,2],"b":"x"}""", Assert.Single(response.Headers.GetValues("x-metadata")));
        await gateway.AssertStatAsync("http.ingress_http.set_metadata.overwrite_denied", 0);
    }

    [Fact]
    public void Load_EmptyNamespaceAndTypedValue_Refused()
    {
        var yaml = FilterTestConfig.Yaml(1, $$"""
                  - name: set
                    typed_config:
                      "@type": {{Type}}
                      metadata:
                      - { metadata_namespace: "", value: { a: 1 } }
                      - { metadata_namespace: ns, typed_value: { "@type": type.googleapis.com/google.protobuf.Struct } }
        """);

        var errors = FilterTestConfig.LoadErrors(yaml);

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("'metadata_namespace' must be at least 1 character", StringComparison.Ordinal) && e.Location.Path.EndsWith("metadata[0].metadata_namespace", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Path.EndsWith("metadata[1].typed_value", StringComparison.Ordinal) && e.Message.Contains("not supported", StringComparison.Ordinal));
    }
}

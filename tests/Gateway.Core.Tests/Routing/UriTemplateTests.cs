using Gateway.Routing;

namespace Gateway.Tests.Routing;

/// <summary>
/// The URI template matcher and rewriter against Envoy's own cases (test/extensions/path/uri_template_lib
/// uri_template_internal_test.cc and uri_template_test.cc, test/extensions/path/rewrite/uri_template/library_test.cc).
/// </summary>
public class UriTemplateTests
{
    [Theory]
    [InlineData("/**.m3u8")]
    [InlineData("/**.mpd")]
    [InlineData("/*_suf")]
    [InlineData("/{path=**}.m3u8")]
    [InlineData("/{foo}/**.ts")]
    [InlineData("/media/*.m4s")]
    [InlineData("/media/{contentId=*}/**")]
    [InlineData("/media/*")]
    [InlineData("/api/*/*/**")]
    [InlineData("/api/*/v1/**")]
    [InlineData("/api/*/v1/*")]
    [InlineData("/{version=api/*}/*")]
    [InlineData("/api/*/*/")]
    [InlineData("/api/*/1234/")]
    [InlineData("/api/*/{resource=*}/{method=*}")]
    [InlineData("/api/*/{resource=*}/{method=**}")]
    [InlineData("/v1/**")]
    [InlineData("/media/{country}/{lang=*}/**")]
    [InlineData("/{foo}/{bar}/{fo}/{fum}/*")]
    [InlineData("/{foo=*}/{bar=*}/{fo=*}/{fum=*}/*")]
    [InlineData("/media/{id=*}/*")]
    [InlineData("/media/{contentId=**}")]
    [InlineData("/api/{version}/projects/{project}/locations/{location}/{resource}/{name}")]
    [InlineData("/api/{version=*}/{url=**}")]
    [InlineData("/api/{VERSION}/{version}/{verSION}")]
    [InlineData("/api/1234/abcd")]
    [InlineData("/media/abcd/%10%20%30/{v1=*/%10%20}_suffix")]
    [InlineData("/")]
    [InlineData("/foo/bar/{goo=**}/doo")]
    [InlineData("/*/bar/**")]
    [InlineData("/{v_1=*/abc/**}")]
    [InlineData("/{v=123/*/*}")]
    [InlineData("/a=b/{v}")] // '=' is a literal character since Envoy 1.27
    public void Validate_EnvoysValidTemplates_Accepted(string template)
    {
        Assert.Null(UriTemplate.Validate(template));
    }

    [Theory]
    [InlineData("/api/v*/1234", "Invalid literal: \"v*\"")]
    [InlineData("/api/{version=v*}/1234", "Invalid literal: \"v*\"")]
    [InlineData("/api/v{versionNum=*}/1234", "Invalid literal: \"v{versionNum=*}\"")]
    [InlineData("/api/{version=*beta}/1234", "Invalid variable match: \"beta\"")]
    [InlineData("/media/eff456/ll-sd-out.{ext}", "Invalid literal: \"ll-sd-out.{ext}\"")]
    [InlineData("/media/eff456/ll-sd-out.**", "Invalid literal: \"ll-sd-out.**\"")]
    [InlineData("/media/{country=**}/{lang=*}/**", "Glob after text glob.")]
    [InlineData("/media/**/*/**", "Glob after text glob.")]
    [InlineData("/**/{var}", "Implicit variable path glob after text glob.")]
    [InlineData("/link/{id=*}/asset*", "Invalid literal: \"asset*\"")]
    [InlineData("/media/{id=/*}/*", "Invalid literal: \"\"")]
    [InlineData("/api/{version}/{version}", "Repeated variable name: \"version\"")]
    [InlineData("/api/{version.major}/{version.minor}", "Invalid variable name: \"version.major\"")]
    [InlineData("/media/***", "Invalid literal: \"*\"")]
    [InlineData("/media/*{*}*", "Invalid literal: \"{*}*\"")]
    [InlineData("/media/{*}/", "Invalid variable name: \"*\"")]
    [InlineData("/media/*/index?a=2", "Invalid literal: \"index?a=2\"")]
    [InlineData("media", "Invalid pattern: \"media\"")]
    [InlineData("/\u0001\u0002", "Invalid pattern: \"/\u0001\u0002\"")]
    [InlineData("/a b", "Invalid pattern: \"/a b\"")]
    [InlineData("/*(/**", "Prefix match not supported.")]
    [InlineData("/{var1}/{var2}/{var3}/{var4}/{var5}/{var6}", "Exceeded variable count limit (5)")]
    [InlineData("/{=*}", "Invalid variable name: \"\"")]
    [InlineData("/{var12345678901234=*}", "Invalid variable name length (length of \"var12345678901234\" should be at least 1 and no more than 16)")]
    [InlineData("/{var12345678901234=*", "Unmatched variable bracket in \"{var12345678901234=*\"")]
    [InlineData("/foo//bar/{goo}", "Invalid literal: \"\"")]
    [InlineData("//bar/{goo}", "Invalid literal: \"\"")]
    [InlineData("/foo/bar/{goo}}", "Invalid literal: \"}\"")]
    [InlineData("/{foo=**}/bar/{goo=*}", "Glob after text glob.")]
    [InlineData("/**/bar/*", "Glob after text glob.")]
    [InlineData("/{var=}", "Empty variable match")]
    [InlineData("/{var=***}", "Invalid variable match: \"*\"")]
    [InlineData("/{var=*/abc?q=1}", "Invalid literal: \"abc?q=1\"")]
    [InlineData("/{x}.a/b", "Prefix match not supported.")]
    [InlineData("/{", "Invalid variable: \"{\"")]
    public void Validate_EnvoysInvalidTemplates_RefusedWithEnvoysReason(string template, string error)
    {
        Assert.Equal(error, UriTemplate.Validate(template));
    }

    [Theory]
    [InlineData("/media/1234/manifest.m3u8", "/**.m3u8", "")]
    [InlineData("/manifest.mpd", "/**.mpd", "")]
    [InlineData("/media/1234/manifest.m3u8", "/{path=**}.m3u8", "path=media/1234/manifest")]
    [InlineData("/foo/12314341/format/123/hls/segment_0000000001.ts", "/{foo}/**.ts", "foo=foo")]
    [InlineData("/media/eff456/ll-sd-out.js", "/media/{contentId=*}/**", "contentId=eff456")]
    [InlineData("/api/v1/1234/broadcasts/get", "/api/*/*/**", "")]
    [InlineData("/api/v1/1234", "/{version=api/*}/*", "version=api/v1")]
    [InlineData("/api/v1/1234/", "/api/*/*/", "")]
    [InlineData("/api/v1/1234/broadcasts/get", "/api/*/{resource=*}/{method=**}", "resource=1234,method=broadcasts/get")]
    [InlineData("/v1/broadcasts/12345/live", "/v1/**", "")]
    [InlineData("/media/us/en/12334/subtitle_enUS_00101.vtt", "/media/{country}/{lang=*}/**", "country=us,lang=en")]
    [InlineData("/foo/bar/fo/fum/123", "/{foo}/{bar}/{fo}/{fum}/*", "foo=foo,bar=bar,fo=fo,fum=fum")]
    [InlineData("/foo/bar/fo/fum/123", "/{foo=*}/{bar=*}/{fo=*}/{fum=*}/*", "foo=foo,bar=bar,fo=fo,fum=fum")]
    [InlineData("/media/1234/hls/1001011.m3u8", "/media/{id=*}/**", "id=1234")]
    [InlineData("/media/1234/hls/1001011.m3u8", "/media/{contentId=**}", "contentId=1234/hls/1001011.m3u8")]
    [InlineData("/api/v1/projects/my-project/locations/global/edgeCacheOrigins/foo", "/api/{version}/projects/{project}/locations/{location}/{resource}/{name}",
        "version=v1,project=my-project,location=global,resource=edgeCacheOrigins,name=foo")]
    [InlineData("/api/v1/foo/bar/baz/", "/api/{version=*}/{url=**}", "version=v1,url=foo/bar/baz/")]
    [InlineData("/api/v1/v2/v3", "/api/{VERSION}/{version}/{verSION}", "VERSION=v1,version=v2,verSION=v3")]
    [InlineData("/abc/123/456/def/789/ghi/%20/($).jkl", "/abc/*/{var1}/def/{var2=*/ghi/**}.jkl", "var1=456,var2=789/ghi/%20/($)")]
    [InlineData("/v1/a/", "/v1/**", "")] // '**' takes zero characters
    [InlineData("/bar/usa/final==1", "/bar/{final}/{country}", "final=usa,country=final==1")]
    [InlineData("/files/a*b", "/files/{name}", "name=a*b")] // the globs take '*' (uri_template_match_on_asterisk)
    [InlineData("/files/x/*/y", "/files/{rest=**}", "rest=x/*/y")]
    [InlineData("/api/*/1234/", "/api/*/1234/", "")] // no match before Envoy 1.35 (its test still listed it then)
    [InlineData("/a.b.jpg", "/{name}.jpg", "name=a.b")]
    [InlineData("/x/edit", "/{p=**}/edit", "p=x")]
    [InlineData("/", "/", "")]
    public void TryMatch_EnvoysMatchingCases_MatchWithCaptures(string path, string template, string captures)
    {
        var compiled = UriTemplate.FromValidated(template);
        var spans = new int[UriTemplate.MaxVariables * 2];

        Assert.True(compiled.TryMatch(path, spans));

        var actual = new List<string>();
        for (var i = 0; i < compiled.Variables.Count; i++)
        {
            actual.Add($"{compiled.Variables[i]}={path[spans[i * 2]..spans[(i * 2) + 1]]}");
        }
        Assert.Equal(captures, string.Join(',', actual));
    }

    [Theory]
    [InlineData("/media/12345/f/123/s00002.m4s", "/media/*.m4s")]
    [InlineData("/media/eff456/ll-sd-out.js", "/media/*")]
    [InlineData("/api/v1/1234/", "/api/*/v1/*")]
    [InlineData("/api/v1/1234/broadcasts/get", "/api/*/{resource=*}/{method=*}")]
    [InlineData("/api/v1/1234/", "/api/*/v1/**")]
    [InlineData("/v1", "/v1/**")] // '/v1/**' needs the '/' (Envoy's issue 33571)
    [InlineData("/media/.m4s", "/media/*.m4s")] // '*' takes at least one character
    [InlineData("/media//x", "/media/*/x")]
    [InlineData("/edit", "/{p=**}/edit")]
    [InlineData("/a/\"b\"", "/a/*")] // outside RFC 3986 pchar
    [InlineData("/a/é", "/a/*")]
    [InlineData("/api/V1", "/api/v1")] // case-sensitive
    [InlineData("/a/b/", "/a/*")]
    [InlineData("/a", "/a/")]
    public void TryMatch_EnvoysNonMatchingCases_DoNotMatch(string path, string template)
    {
        Assert.False(UriTemplate.FromValidated(template).IsMatch(path));
    }

    [Theory]
    [InlineData("/{var1}")]
    [InlineData("/{var1}{var2}")]
    [InlineData("/{var1}-{var2}")]
    [InlineData("/abc/{var1}/def")]
    [InlineData("/abc-def-{var1}/a/{var1}")]
    [InlineData("/static")]
    [InlineData("/{var1}-{var2}/bucket-{var3}.suffix")]
    public void ValidateRewrite_EnvoysValidRewrites_Accepted(string rewrite)
    {
        Assert.Null(UriTemplateRewrite.Validate(rewrite));
    }

    [Theory]
    [InlineData("{var1}", "Invalid rewrite variable placement")]
    [InlineData("", "Invalid rewrite variable placement")]
    [InlineData("/{{var1}}", "Invalid variable name")]
    [InlineData("/}va1{", "Invalid rewrite literal pattern")]
    [InlineData("/{var1}?abc=123", "Invalid rewrite literal pattern")]
    [InlineData("/{var1/var2}", "Invalid variable name")]
    [InlineData("/{}", "Invalid variable name")]
    [InlineData("/a//b", "Invalid rewrite literal")]
    [InlineData("/{var1", "Unmatched variable bracket")]
    [InlineData("/foo/bar/{goo}}", "Invalid rewrite literal pattern")]
    public void ValidateRewrite_EnvoysInvalidRewrites_RefusedWithEnvoysReason(string rewrite, string error)
    {
        Assert.Equal(error, UriTemplateRewrite.Validate(rewrite));
    }

    [Theory]
    [InlineData("/foo/bar/{goo}", "/foo/bar/{goo}", true)]
    [InlineData("/foo/bar/{goo}/{doo}", "/foo/bar/{doo}/{goo}", true)]
    [InlineData("/foo/bar/{goo}/{goo}", "/foo/{bar}", false)]
    [InlineData("/foo/{goo}", "/foo/bar/", false)]
    [InlineData("/foo/bar/{goo}", "/{foo}", false)]
    public void UsesOnlyVariablesOf_EnvoysSharedVariableCases_AsEnvoy(string rewrite, string template, bool valid)
    {
        Assert.Equal(valid, UriTemplateRewrite.UsesOnlyVariablesOf(rewrite, UriTemplate.FromValidated(template)));
    }

    [Theory]
    [InlineData("/api/users/{id}/{path=**}", "/users/{id}/{path}", "/api/users/21334/profile.json", "/users/21334/profile.json")]
    [InlineData("/videos/*/{id}/{format}/{rendition}/{segment=**}.ts", "/{id}/{format}/{rendition}/{segment}.ts", "/videos/lib/132939/hls/13/segment_00001.ts", "/132939/hls/13/segment_00001.ts")]
    [InlineData("/region/{region}/bucket/{name}/{method=**}", "/{region}/bucket-{name}/{method}", "/region/eu/bucket/prod-storage/object.pdf", "/eu/bucket-prod-storage/object.pdf")]
    [InlineData("/region/{region}/bucket/{name}/{method=**}", "/{region}{name}/{method}", "/region/eu/bucket/prod-storage/object.pdf", "/euprod-storage/object.pdf")]
    [InlineData("/bar/{country}/{lang}", "/bar/{lang}/{country}", "/bar/en/usa", "/bar/usa/en")]
    [InlineData("/bar/{final}/{country}", "/bar/{country}/{final}", "/bar/usa/final==1", "/bar/final==1/usa")]
    [InlineData("/bar/{country}/final", "/bar/{country}/final", "/bar/usa==/final", "/bar/usa==/final")]
    [InlineData("/{one}/{two}", "/{two}/{one}", "/cat/dog", "/dog/cat")]
    [InlineData("/videos/{language=lang/*}/*", "/{language}", "/videos/lang/en/video.m4s", "/lang/en")]
    [InlineData("/content/{format}/{lang}/{id}/{file}.vtt", "/{lang}/{format}/{file}.vtt", "/content/hls/en-us/12345/en_193913.vtt", "/en-us/hls/en_193913.vtt")]
    [InlineData("/{a=**}", "/x/{a}/{a}", "/p/q", "/x/p/q/p/q")]
    public void Apply_EnvoysRewriteCases_ProduceEnvoysPath(string template, string rewrite, string path, string expected)
    {
        var compiled = UriTemplateRewrite.FromValidated(rewrite, UriTemplate.FromValidated(template));

        Assert.Equal(expected, compiled.Apply(path));
    }

    [Fact]
    public void Apply_PathNotMatchingTheTemplate_ReturnsNull()
    {
        // Envoy's "Pattern not match": the rewrite fails and the path is forwarded unchanged.
        var compiled = UriTemplateRewrite.FromValidated("/bar/{lang}/{country}/{test}", UriTemplate.FromValidated("/bar/{country}/{lang}/{test}"));

        Assert.Null(compiled.Apply("/bar/en/usa"));
    }

    [Fact]
    public void IsMatch_LongPath_DoesNotAllocate()
    {
        var template = UriTemplate.FromValidated("/api/{version}/{rest=**}.json");
        var path = "/api/v1/" + string.Join('/', Enumerable.Repeat("segment", 200)) + ".json";
        Assert.True(template.IsMatch(path));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            template.IsMatch(path);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}

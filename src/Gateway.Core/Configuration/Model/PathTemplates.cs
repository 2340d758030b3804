namespace Gateway.Configuration;

/// <summary>
/// <c>RouteMatch.path_match_policy</c>: an <c>envoy.config.core.v3.TypedExtensionConfig</c> whose <c>typed_config</c> may
/// only hold a path matcher (<see cref="UriTemplateMatchConfig"/>).
/// </summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class PathMatchPolicy : EnvoyMessage
{
    /// <summary>The extension's name (Envoy finds the extension by the type URL; the name is required, not checked).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The matcher's configuration.</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.PathMatcher)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary>
/// <c>RouteAction.path_rewrite_policy</c>: an <c>envoy.config.core.v3.TypedExtensionConfig</c> whose <c>typed_config</c> may
/// only hold a path rewriter (<see cref="UriTemplateRewriteConfig"/>).
/// </summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class PathRewritePolicy : EnvoyMessage
{
    /// <summary>The extension's name (Envoy finds the extension by the type URL; the name is required, not checked).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The rewriter's configuration.</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.PathRewriter)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary>
/// <c>envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig</c>
/// (<c>envoy.path.match.uri_template.uri_template_matcher</c>): the path (query removed) must match the template.
/// </summary>
[EnvoyType("envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig")]
public sealed class UriTemplateMatchConfig : EnvoyMessage
{
    /// <summary>The template (<c>*</c>, <c>**</c>, <c>{name}</c>, <c>{name=…}</c>, literals); 1 to 256 characters.</summary>
    [ProtoField(1)]
    public string? PathTemplate { get; set; }
}

/// <summary>
/// <c>envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig</c>
/// (<c>envoy.path.rewrite.uri_template.uri_template_rewriter</c>): the upstream path made of literals and the match
/// template's variables.
/// </summary>
[EnvoyType("envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig")]
public sealed class UriTemplateRewriteConfig : EnvoyMessage
{
    /// <summary>The new path (<c>/{two}/{one}</c>); 1 to 256 characters.</summary>
    [ProtoField(1)]
    public string? PathTemplateRewrite { get; set; }
}

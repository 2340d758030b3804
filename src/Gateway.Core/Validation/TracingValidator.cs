using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks the tracing configuration: the connection manager's <c>tracing</c>, the bootstrap's <c>tracing</c>, a
/// route's <c>decorator</c> and <c>tracing</c>, custom tags (the proto's constraints) and tracer providers (through
/// their factories).
/// </summary>
internal sealed class TracingValidator(ValidationContext context)
{
    public void Validate(HcmTracing tracing)
    {
        ValidatePercent(tracing, "client_sampling", tracing.ClientSampling);
        ValidatePercent(tracing, "random_sampling", tracing.RandomSampling);
        ValidatePercent(tracing, "overall_sampling", tracing.OverallSampling);
        ValidateTags(tracing.CustomTags);
        ValidateOperations(tracing, tracing.Operation, tracing.UpstreamOperation);
        if (tracing.Provider is { } provider)
        {
            ValidateProvider(provider);
        }
    }

    public void Validate(BootstrapTracing tracing)
    {
        if (tracing.Http is { } provider)
        {
            ValidateProvider(provider);
        }
    }

    public void Validate(Decorator decorator)
    {
        if (string.IsNullOrEmpty(decorator.Operation))
        {
            context.Error(decorator, "operation", "'operation' is required and may not be empty");
        }
    }

    public void Validate(RouteTracing tracing)
    {
        ValidateTags(tracing.CustomTags);
        ValidateOperations(tracing, tracing.Operation, tracing.UpstreamOperation);
    }

    /// <summary>The operation formats parse as the access log's (Envoy's FormatterImpl::create, its errors at the field).</summary>
    private void ValidateOperations(EnvoyMessage owner, string? operation, string? upstreamOperation)
    {
        if (!string.IsNullOrEmpty(operation))
        {
            Tracing.TracingCompiler.CompileOperation(operation, context, owner, "operation");
        }
        if (!string.IsNullOrEmpty(upstreamOperation))
        {
            Tracing.TracingCompiler.CompileOperation(upstreamOperation, context, owner, "upstream_operation");
        }
    }

    private void ValidatePercent(EnvoyMessage owner, string field, Percent? percent)
    {
        if (percent is { Value: var value } && !(value >= 0 && value <= 100))
        {
            context.Error(owner, field, $"'{field}' must be between 0 and 100 (got {value})");
        }
    }

    private void ValidateProvider(TracingHttp provider)
    {
        if (string.IsNullOrEmpty(provider.Name))
        {
            context.Error(provider, "name", "'name' is required and may not be empty");
        }
        if (provider.TypedConfig is not { } config)
        {
            context.Error(provider, "typed_config", $"tracing provider '{provider.Name}': 'typed_config' is required");
            return;
        }
        if (context.Types.FindTracer(config.GetType()) is not { } factory)
        {
            context.Error(provider, "typed_config", $"tracing provider '{provider.Name}': {BootstrapValidator.MessageSchemaName(config)} is not a tracer of this gateway");
            return;
        }
        factory.Validate(config, context);
    }

    private void ValidateTags(List<CustomTag> tags)
    {
        foreach (var tag in tags)
        {
            if (string.IsNullOrEmpty(tag.Tag))
            {
                context.Error(tag, "tag", "'tag' is required and may not be empty");
            }
            var kinds = (tag.Literal is null ? 0 : 1) + (tag.Environment is null ? 0 : 1) + (tag.RequestHeader is null ? 0 : 1)
                + (tag.ResponseHeader is null ? 0 : 1) + (tag.Metadata is null ? 0 : 1);
            if (kinds != 1)
            {
                context.Error(tag, "a custom tag needs exactly one of literal, environment, request_header, response_header, metadata");
                continue;
            }
            if (tag.Literal is { } literal && string.IsNullOrEmpty(literal.Value))
            {
                context.Error(literal, "value", "'value' is required and may not be empty");
            }
            if (tag.Environment is { } environment && string.IsNullOrEmpty(environment.Name))
            {
                context.Error(environment, "name", "'name' is required and may not be empty");
            }
            foreach (var header in (CustomTagHeader?[])[tag.RequestHeader, tag.ResponseHeader])
            {
                if (header is not null && !IsHeaderName(header.Name))
                {
                    context.Error(header, "name", $"'name' must be a valid HTTP header name (got '{header.Name}')");
                }
            }
            if (tag.Metadata is { } metadata)
            {
                ValidateMetadata(metadata);
            }
        }
    }

    private void ValidateMetadata(CustomTagMetadata metadata)
    {
        var kind = metadata.Kind;
        var members = kind is null ? 0 : (kind.Request is null ? 0 : 1) + (kind.Route is null ? 0 : 1) + (kind.Cluster is null ? 0 : 1) + (kind.Host is null ? 0 : 1);
        if (members != 1)
        {
            if (kind is null)
            {
                context.Error(metadata, "kind", "'kind' is required: one of request, route, cluster, host");
            }
            else
            {
                context.Error(kind, "a metadata kind needs exactly one of request, route, cluster, host");
            }
        }
        if (metadata.MetadataKey is not { } key)
        {
            context.Error(metadata, "metadata_key", "'metadata_key' is required");
            return;
        }
        if (string.IsNullOrEmpty(key.Key))
        {
            context.Error(key, "key", "'key' is required and may not be empty");
        }
        if (key.Path.Count == 0)
        {
            context.Error(key, "path", "'path' needs at least one segment");
        }
        foreach (var segment in key.Path)
        {
            if (string.IsNullOrEmpty(segment.Key))
            {
                context.Error(segment, "key", "'key' is required and may not be empty");
            }
        }
    }

    /// <summary>An RFC 9110 token (HTTP_HEADER_NAME with strict: false also takes none of NUL, CR, LF; a token is stricter and what Kestrel can carry).</summary>
    internal static bool IsHeaderName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal) || (c == ':' && name[0] == ':')))
            {
                return false;
            }
        }
        return true;
    }
}

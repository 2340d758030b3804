using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.HeaderMutation;

/// <summary><c>envoy.config.common.mutation_rules.v3.HeaderMutation</c>: remove a header, or append one.</summary>
[EnvoyType("envoy.config.common.mutation_rules.v3.HeaderMutation", NotSupported = ["remove_on_match"])]
public sealed class HeaderMutationRule : EnvoyMessage
{
    /// <summary>Remove every header of this name.</summary>
    [ProtoField(1, InOneOf = true)]
    public string? Remove { get; set; }

    /// <summary>Add (or overwrite) a header.</summary>
    [ProtoField(2, InOneOf = true)]
    public HeaderValueOption? Append { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.header_mutation.v3.Mutations</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.header_mutation.v3.Mutations",
    NotSupported = ["parameter_mutations", "request_trailers_mutations", "response_trailers_mutations"])]
public sealed class Mutations : EnvoyMessage
{
    /// <summary>Applied to the request headers before they go upstream.</summary>
    [ProtoField(1)]
    public List<HeaderMutationRule> RequestMutations { get; set; } = [];

    /// <summary>Applied to the response headers before they go downstream.</summary>
    [ProtoField(2)]
    public List<HeaderMutationRule> ResponseMutations { get; set; } = [];
}

/// <summary><c>envoy.extensions.filters.http.header_mutation.v3.HeaderMutation</c>: the filter's configuration.</summary>
[EnvoyType("envoy.extensions.filters.http.header_mutation.v3.HeaderMutation")]
public sealed class HeaderMutationConfig : EnvoyMessage
{
    /// <summary>The mutations, applied before any per-route ones.</summary>
    [ProtoField(1)]
    public Mutations? Mutations { get; set; }

    /// <summary>Per-route mutations of every level run least specific last (false) or most specific last (true).</summary>
    [ProtoField(2)]
    public bool MostSpecificHeaderMutationsWins { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute")]
public sealed class HeaderMutationPerRoute : EnvoyMessage
{
    /// <summary>The route's mutations.</summary>
    [ProtoField(1)]
    public Mutations? Mutations { get; set; }
}

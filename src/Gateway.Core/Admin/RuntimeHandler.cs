namespace Gateway.Admin;

/// <summary>
/// <c>/runtime</c> (runtime_handler.cc): the runtime layers and their entries. This gateway supports no
/// <c>layered_runtime</c>, and Envoy has no layer at all without one, so the answer is Envoy's for that
/// case: no layers, no entries (a <c>google.protobuf.Struct</c>, keys in order).
/// </summary>
internal sealed class RuntimeHandler
{
    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/runtime", "print runtime values", false, _ => AdminResponse.Json(
            new ProtoObject().Add("entries", new ProtoObject()).Add("layers", new ProtoList()).ToPrettyString())),
    ];
}

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>
/// <c>/runtime</c> and POST <c>/runtime_modify</c> (runtime_handler.cc). This gateway supports no
/// <c>layered_runtime</c>, and Envoy has no layer at all without one, so the answers are Envoy's for that case:
/// <c>/runtime</c> shows no layers and no entries (a <c>google.protobuf.Struct</c>, keys in order), and
/// <c>/runtime_modify</c> with parameters fails with 503 "No admin layer specified" (without any, 400 and the usage).
/// </summary>
internal sealed partial class RuntimeHandler(ILogger<RuntimeHandler> logger)
{
    private const string ModifyUsage =
        "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n" +
        "       or send the parameters as form values\n" +
        "use an empty value to remove a previously added override";

    /// <summary>Envoy's LoaderImpl::mergeValues error without an admin layer.</summary>
    private const string NoAdminLayer = "No admin layer specified";

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/runtime", "print runtime values", false, _ => AdminResponse.Json(
            new ProtoObject().Add("entries", new ProtoObject()).Add("layers", new ProtoList()).ToPrettyString())),
        new("/runtime_modify",
            "Adds or modifies runtime values as passed in query parameters. To delete a previously added key, use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded from disk can be modified via override but not deleted. E.g. ?key1=value1&key2=value2...",
            true, Modify),
    ];

    private AdminResponse Modify(AdminRequest request)
    {
        if (request.Query.Count == 0)
        {
            return AdminResponse.BadRequest(ModifyUsage);
        }
        Log.ModifyFailed(logger, NoAdminLayer);
        return new AdminResponse(StatusCodes.Status503ServiceUnavailable, NoAdminLayer);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AdminRuntimeRefused, Level = LogLevel.Error, Message = "{Reason}")]
        public static partial void ModifyFailed(ILogger logger, string reason);
    }
}

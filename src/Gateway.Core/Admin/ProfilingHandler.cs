using Microsoft.AspNetCore.Http;

namespace Gateway.Admin;

/// <summary>
/// The diagnostics Envoy's build may or may not have (profiling_handler.cc, stats_handler.cc, init_dump_handler.cc).
/// This gateway has no CPU or heap profiler, no tcmalloc and no mutex tracing, so each answers as an Envoy built
/// without them does: POST <c>/cpuprofiler?enable=y</c> fails with 500, <c>/heapprofiler</c> and <c>/heap_dump</c>
/// are 501, <c>/contention</c> says tracing is off. Its listeners are static and ready once started, so
/// <c>/init_dump</c> lists no unready target (an empty <c>UnreadyTargetsDumps</c>).
/// </summary>
internal sealed class ProfilingHandler
{
    private const string EnableUsage = "?enable=<y|n>\n";

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/contention", "dump current Envoy mutex contention stats (if enabled)", false,
            _ => AdminResponse.Ok("Mutex contention tracing is not enabled. To enable, run Envoy with flag --enable-mutex-tracing.")),
        new("/cpuprofiler", "enable/disable the CPU profiler", true,
            [new AdminParam("enable", "enables the CPU profiler", ["y", "n"])], CpuProfiler),
        new("/heapprofiler", "enable/disable the heap profiler", true,
            [new AdminParam("enable", "enable/disable the heap profiler", ["y", "n"])],
            _ => new AdminResponse(StatusCodes.Status501NotImplemented, "The current build does not support heap profiler")),
        new("/heap_dump", "dump current Envoy heap (if supported)", false,
            _ => new AdminResponse(StatusCodes.Status501NotImplemented, "Heap profile is not implemented in current build")),
        new("/init_dump", "dump current Envoy init manager information (experimental)", false,
            [new AdminParam("mask", "The desired component to dump unready targets. The mask is parsed as a ProtobufWkt::FieldMask. For example, get the unready targets of all listeners with /init_dump?mask=listener`")],
            _ => AdminResponse.Json(new ProtoObject().ToPrettyString())),
    ];

    private static AdminResponse CpuProfiler(AdminRequest request)
    {
        var enable = request.Find("enable");
        if (request.Query.Count != 1 || enable is not ("y" or "n"))
        {
            return AdminResponse.BadRequest(EnableUsage);
        }
        // Without a profiler, starting fails and stopping has nothing to stop.
        return enable == "y"
            ? new AdminResponse(StatusCodes.Status500InternalServerError, "failure to start the profiler")
            : AdminResponse.Ok("OK\n");
    }
}

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Admin;

/// <summary>
/// <c>/ready</c>, <c>/server_info</c>, <c>/memory</c> and <c>/hot_restart_version</c>
/// (server_info_handler.cc). JSON is printed as Envoy prints these protos: pretty, with default values.
/// </summary>
internal sealed class ServerInfoHandler(ServerState server, IServiceProvider services)
{
    /// <summary>What Envoy's hot restart answers when it is not compiled in or disabled; this gateway has none.</summary>
    public const string HotRestartVersion = "disabled";

    private readonly AdminServerOptions _options = services.GetService<AdminServerOptions>() ?? AdminServerOptions.Default;

    private Hosting.DrainOptions Drain => services.GetService<Hosting.DrainOptions>() ?? new Hosting.DrainOptions();
    private readonly Configuration.Bootstrap? _bootstrap = services.GetService<ConfigDumpSource>()?.Bootstrap;

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/ready", "print server state, return 200 if LIVE, otherwise return 503", false, _ => Ready()),
        new("/server_info", "print server version/status information", false, _ => AdminResponse.Json(ServerInfo().ToPrettyString())),
        new("/memory", "print current allocation/heap usage", false, _ => AdminResponse.Json(Memory().ToPrettyString())),
        new("/hot_restart_version", "print the hot restart compatibility version", false, _ => AdminResponse.Ok(HotRestartVersion)),
    ];

    private AdminResponse Ready()
    {
        var state = server.State;
        return new AdminResponse(state == ServerState.Live ? 200 : 503, ServerState.Name(state) + "\n");
    }

    /// <summary><c>envoy.admin.v3.ServerInfo</c>, every field printed.</summary>
    public ProtoObject ServerInfo()
    {
        var uptime = TimeSpan.FromSeconds(Math.Max(0, Math.Floor((server.Time.GetUtcNow() - server.StartedAt).TotalSeconds)));
        return new ProtoObject()
            .Add("version", ProtoJson.String(_options.Version))
            .Add("state", ProtoJson.String(ServerState.Name(server.State)))
            .Add("uptime_current_epoch", ProtoJson.Duration(uptime))
            .Add("uptime_all_epochs", ProtoJson.Duration(uptime))
            .Add("hot_restart_version", ProtoJson.String(HotRestartVersion))
            .Add("command_line_options", CommandLineOptions())
            .Add("node", NodeInfo());
    }

    /// <summary>
    /// <c>envoy.config.core.v3.Node</c> as Envoy's local info holds it: the bootstrap's node, every
    /// primitive printed, the locality only when set (a message field), Envoy's user agent name.
    /// </summary>
    private ProtoObject NodeInfo()
    {
        var node = _bootstrap?.Node;
        var info = new ProtoObject()
            .Add("id", ProtoJson.String(node?.Id ?? string.Empty))
            .Add("cluster", ProtoJson.String(node?.Cluster ?? string.Empty));
        if (node?.Metadata is { } metadata)
        {
            info.Add("metadata", ConfigJson.Struct(metadata));
        }
        if (node?.Locality is { } locality)
        {
            info.Add("locality", new ProtoObject()
                .Add("region", ProtoJson.String(locality.Region ?? string.Empty))
                .Add("zone", ProtoJson.String(locality.Zone ?? string.Empty))
                .Add("sub_zone", ProtoJson.String(locality.SubZone ?? string.Empty)));
        }
        return info
            .Add("user_agent_name", ProtoJson.String("envoy"))
            .Add("extensions", new ProtoList())
            .Add("client_features", new ProtoList())
            .Add("listening_addresses", new ProtoList())
            .Add("dynamic_parameters", new ProtoObject());
    }

    /// <summary>
    /// <c>envoy.admin.v3.CommandLineOptions</c> in field-number order: the options the host really parsed,
    /// and Envoy's defaults for the ones this gateway does not implement.
    /// </summary>
    private ProtoObject CommandLineOptions() => new ProtoObject()
        .Add("base_id", ProtoJson.Int64(0))
        .Add("concurrency", ProtoJson.Number(_options.Concurrency))
        .Add("config_path", ProtoJson.String(_options.ConfigPath))
        .Add("config_yaml", ProtoJson.String(_options.ConfigYaml))
        .Add("allow_unknown_static_fields", ProtoJson.Bool(false))
        .Add("admin_address_path", ProtoJson.String(_options.AdminAddressPath))
        .Add("local_address_ip_version", ProtoJson.String("v4"))
        .Add("log_level", ProtoJson.String(_options.LogLevel))
        .Add("component_log_level", ProtoJson.String(string.Empty))
        .Add("log_format", ProtoJson.String("[%Y-%m-%d %T.%e][%t][%l][%n] %v"))
        .Add("log_path", ProtoJson.String(string.Empty))
        .Add("service_cluster", ProtoJson.String(string.Empty))
        .Add("service_node", ProtoJson.String(string.Empty))
        .Add("service_zone", ProtoJson.String(string.Empty))
        .Add("file_flush_interval", ProtoJson.Duration(services.GetService<AccessLog.AccessLogOptions>()?.FlushInterval ?? AccessLog.AccessLogManager.DefaultFlushInterval))
        .Add("drain_time", ProtoJson.Duration(Drain.DrainTime))
        .Add("parent_shutdown_time", ProtoJson.Duration(TimeSpan.FromSeconds(900)))
        .Add("mode", ProtoJson.String(_options.Mode))
        .Add("disable_hot_restart", ProtoJson.Bool(true))
        .Add("enable_mutex_tracing", ProtoJson.Bool(false))
        .Add("restart_epoch", ProtoJson.Number(0))
        .Add("cpuset_threads", ProtoJson.Bool(false))
        .Add("reject_unknown_dynamic_fields", ProtoJson.Bool(false))
        .Add("log_format_escaped", ProtoJson.Bool(false))
        .Add("disabled_extensions", new ProtoList())
        .Add("bootstrap_version", ProtoJson.Number(0))
        .Add("ignore_unknown_dynamic_fields", ProtoJson.Bool(false))
        .Add("use_dynamic_base_id", ProtoJson.Bool(false))
        .Add("base_id_path", ProtoJson.String(string.Empty))
        .Add("drain_strategy", ProtoJson.String(Drain.Strategy == Hosting.DrainStrategy.Gradual ? "Gradual" : "Immediate"))
        .Add("enable_fine_grain_logging", ProtoJson.Bool(false))
        .Add("socket_path", ProtoJson.String("@envoy_domain_socket"))
        .Add("socket_mode", ProtoJson.Number(0))
        .Add("enable_core_dump", ProtoJson.Bool(false));

    /// <summary>
    /// <c>envoy.admin.v3.Memory</c> from the .NET GC (Envoy reads tcmalloc): allocated = bytes in use on the
    /// managed heap, heap_size = the heap's size, pageheap_free = its fragmentation, total_physical_bytes =
    /// the process working set; the tcmalloc-only cache figures are 0.
    /// </summary>
    private static ProtoObject Memory()
    {
        var info = GC.GetGCMemoryInfo();
        long physical;
        using (var process = Process.GetCurrentProcess())
        {
            physical = process.WorkingSet64;
        }
        return new ProtoObject()
            .Add("allocated", ProtoJson.Int64(GC.GetTotalMemory(forceFullCollection: false)))
            .Add("heap_size", ProtoJson.Int64(info.HeapSizeBytes))
            .Add("pageheap_unmapped", ProtoJson.Int64(0))
            .Add("pageheap_free", ProtoJson.Int64(info.FragmentedBytes))
            .Add("total_thread_cache", ProtoJson.Int64(0))
            .Add("total_physical_bytes", ProtoJson.Int64(physical))
            .Add("transfer_cache_free", ProtoJson.Int64(0))
            .Add("central_cache_free", ProtoJson.Int64(0))
            .Add("thread_cache_free", ProtoJson.Int64(0))
            .Add("sharded_transfer_cache_free", ProtoJson.Int64(0));
    }
}

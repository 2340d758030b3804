namespace Gateway;

/// <summary>
/// Every log event id of the gateway, in one place so that none is used twice (a test checks it). Ranges follow
/// the Envoy logger the events go to: admin 100, connection 200, filter 300, http 400, main 500, router 600,
/// upstream 700 (health checking 750, outlier detection 780), tracing 800 (Zipkin 850, OpenTelemetry 870), secret 900, config 1000.
/// </summary>
internal static class LogEvents
{
    public const int AdminLogLevelsChanged = 100;
    public const int AdminLogLevelChanged = 101;
    public const int AdminRuntimeRefused = 110;

    public const int FilterFailed = 300;

    public const int MainInitializing = 500;
    public const int MainAdminListening = 501;
    public const int MainListenerListening = 502;
    public const int MainStarted = 503;
    public const int MainShuttingDown = 504;
    public const int MainExiting = 505;

    public const int RouterUpstreamFailed = 600;
    public const int RouterFailedLocally = 601;
    public const int RouterShadowFailed = 610;
    public const int RouterShadowUnknownCluster = 611;
    public const int RouterShadowNoClusterHeader = 612;

    public const int UpstreamDnsFailed = 700;
    public const int HealthCheckFailedDebug = 750;
    public const int HealthCheckFailed = 751;
    public const int HealthCheckPassed = 752;
    public const int HealthCheckStopped = 753;
    public const int HealthCheckTcp = 760;
    public const int OutlierEjected = 780;
    public const int OutlierUnejected = 781;
    public const int OutlierDetectedNotEnforced = 782;
    public const int OutlierNotEjected = 783;

    public const int ZipkinInvalidContext = 850;
    public const int ZipkinNoCluster = 851;
    public const int ZipkinReportFailed = 852;
    // tracing (the HTTP tracing of the connection manager and its tracers' life cycle).
    public const int TracerCreated = 860;
    public const int TracerDisposeFailed = 861;

    public const int OpenTelemetryExportFailed = 870;
    public const int OpenTelemetryExportThrew = 871;
    public const int OpenTelemetryResourceDetectorFailed = 872;
    public const int OpenTelemetryResourceInvalid = 873;
    public const int OpenTelemetrySpanContextInvalid = 874;

    // secret (Envoy's "secret" logger): file-based SDS.
    public const int SecretUpdated = 900;
    public const int SecretUpdateRejected = 901;

    // config (Envoy's "config" logger): xDS subscriptions and the config manager applying their updates. 1000.
    public const int XdsFileRejected = 1000;
    public const int XdsFileFailed = 1001;
    public const int XdsStreamEstablished = 1020;
    public const int XdsStreamClosed = 1021;
    public const int XdsGrpcRejected = 1022;
    public const int XdsUnwatchedType = 1023;
    public const int XdsInitialFetchTimeout = 1024;
    public const int XdsDeltaRemovalIgnored = 1025;
    public const int ConfigApplied = 1010;
    public const int ConfigResourceRejected = 1011;
    public const int ConfigProxyEndpointsLate = 1012;
}

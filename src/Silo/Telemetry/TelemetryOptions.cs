namespace Platform.Silo.Telemetry;

/// <summary>Section "Platform:Telemetry": logs, metrics and traces (docs/operations.md#telemetry).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Platform:Telemetry";

    /// <summary>Console log lines: "text" (one line each, the default) or "json" (one JSON object each, with event ids). Command line: --log-format.</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>Whether <c>/metrics</c> serves the Prometheus text format. Default true.</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>OTLP endpoint (http://collector:4317) that traces are exported to; none by default, and then no traces are collected.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How traces reach <see cref="OtlpEndpoint"/>: "grpc" (the default) or "http/protobuf" (POST to its /v1/traces).</summary>
    public string OtlpProtocol { get; set; } = "grpc";
}

using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Platform.Silo.Hosting;

namespace Platform.Silo.Telemetry;

/// <summary>Console log format, Prometheus metrics at <c>/metrics</c>, and OTLP traces when an endpoint is configured.</summary>
public static class TelemetrySetup
{
    /// <summary>Command-line switches and the settings they set.</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--log-format"] = "Platform:Telemetry:LogFormat",
    };

    /// <summary>The meters exported: the silo's own, ASP.NET Core's HTTP server and Kestrel's connections.</summary>
    public static readonly string[] Meters = [PlatformMeter.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    public static void Configure(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        builder.Services.AddSingleton(options);
        builder.Logging.ClearProviders();
        switch (options.LogFormat.ToLowerInvariant())
        {
            case "text":
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                });
                break;
            case "json":
                builder.Logging.AddJsonConsole(o =>
                {
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.UseUtcTimestamp = true;
                });
                break;
            default:
                throw new StartupException($"Platform:Telemetry:LogFormat (--log-format) is '{options.LogFormat}'; expected 'text' or 'json'.");
        }

        var otlp = ParseOtlpEndpoint(options.OtlpEndpoint);
        var protocol = ParseOtlpProtocol(options.OtlpProtocol);
        // Over HTTP the exporter posts to the URL as given; a collector's base URL gets the standard path, as OTEL_EXPORTER_OTLP_ENDPOINT does.
        if (otlp is not null && protocol == OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf && otlp.AbsolutePath == "/") otlp = new Uri(otlp, "v1/traces");
        if (!options.Metrics && otlp is null) return;
        builder.Services.AddSingleton<PlatformMeter>();
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("platform-silo"));
        if (options.Metrics) telemetry.WithMetrics(m => m.AddMeter(Meters).AddPrometheusExporter());
        if (otlp is not null)
            telemetry.WithTracing(t => t.AddSource(PlatformMeter.Name, Platform.Runtime.RuntimeActivitySource.Name).AddAspNetCoreInstrumentation().AddOtlpExporter(o =>
            {
                o.Endpoint = otlp;
                o.Protocol = protocol;
            }));
    }

    /// <summary>Maps <c>/metrics</c> and creates the silo's instruments; call once the silo has started.</summary>
    public static void MapMetrics(WebApplication app)
    {
        if (!app.Services.GetRequiredService<TelemetryOptions>().Metrics) return;
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    /// <summary>Creates the instruments; after the start, so the cluster's membership exists to be observed.</summary>
    public static void StartInstruments(WebApplication app) => app.Services.GetService<PlatformMeter>();

    private static OpenTelemetry.Exporter.OtlpExportProtocol ParseOtlpProtocol(string value) => value.ToLowerInvariant() switch
    {
        "grpc" => OpenTelemetry.Exporter.OtlpExportProtocol.Grpc,
        "http/protobuf" => OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf,
        _ => throw new StartupException($"Platform:Telemetry:OtlpProtocol is '{value}'; expected 'grpc' or 'http/protobuf'."),
    };

    private static Uri? ParseOtlpEndpoint(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
        throw new StartupException($"Platform:Telemetry:OtlpEndpoint is '{value}'; expected an http:// or https:// URL of an OTLP collector, such as http://127.0.0.1:4317.");
    }
}

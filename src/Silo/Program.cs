using Platform.Runtime.Hosting;
using Platform.Silo.Access;
using Platform.Silo.Artifacts;
using Platform.Silo.Dashboard;
using Platform.Silo.Endpoints;
using Platform.Silo.Endpoints.Builds;
using Platform.Silo.Endpoints.Consul;
using Platform.Silo.Endpoints.ConsulNodes;
using Platform.Silo.Endpoints.Etcd;
using Platform.Silo.Endpoints.Nodes;
using Platform.Silo.Endpoints.Rules;
using Platform.Silo.Hosting;
using Platform.Silo.Telemetry;

WebApplication app;
PlatformOptions options;
try
{
    var builder = SiloSetup.CreateBuilder(args);
    builder.Services.AddSingleton<SiloReadiness>();
    builder.Services.AddSingleton<DashboardFiles>();
    app = builder.Build();
    options = app.Services.GetRequiredService<PlatformOptions>();
    await SiloSetup.ProbeStorageAsync(app.Services, options);
}
catch (StartupException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

app.UseWebSockets();
app.UseOutageAnswer();
app.UseAccessControl();
app.MapHealthEndpoints();
app.MapClusterEndpoints();
app.MapEtcdEndpoints();
app.MapConsulEndpoints();
app.MapNodesApi();
app.MapConsulNodesApi();
app.MapBuildsApi();
TelemetrySetup.MapMetrics(app);
app.MapAccessEndpoints();
app.MapArtifactEndpoints();
app.MapRulesEndpoints();
app.MapDashboard();
foreach (var extension in app.Services.GetServices<ISiloExtension>()) extension.MapEndpoints(app);

try
{
    await app.StartAsync();
}
catch (SiloStartupException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (Exception e) when (SiloSetup.DescribeListenFailure(e, app.Configuration) is { } why)
{
    Console.Error.WriteLine($"error: {why}");
    return 2;
}

string? bootstrapSecret;
try
{
    bootstrapSecret = await AccessSetup.StartAsync(app);
}
catch (StartupException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    await app.StopAsync();
    return 2;
}
// Printed once, here, and never logged: the cluster keeps only its hash.
if (bootstrapSecret is not null)
    Console.WriteLine($"bootstrap token (scope admin; shown this once, keep it safe): {bootstrapSecret}");

var runtime = app.Services.GetRequiredService<GrainRuntime>();
TelemetrySetup.StartInstruments(app);
app.Services.GetRequiredService<SiloReadiness>().MarkReady();
var storage = options.Storage.Equals("sqlite", StringComparison.OrdinalIgnoreCase)
    ? $"sqlite {Path.Combine(Path.GetFullPath(options.DataDir), "platform.db")}"
    : "postgres";
Console.WriteLine($"silo {runtime.Options.SiloName} listening on {string.Join(", ", app.Urls)} (storage: {storage})");
await app.WaitForShutdownAsync();
Console.WriteLine($"silo {runtime.Options.SiloName} stopped");
return 0;

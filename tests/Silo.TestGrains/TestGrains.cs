using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime;
using Platform.Silo.Hosting;

namespace Platform.Silo.TestGrains;

public sealed class LedgerState
{
    public Dictionary<string, long> Entries { get; set; } = [];
    public List<DateTimeOffset> Ticks { get; set; } = [];
}

public interface ILedgerGrain : IGrainWithStringKey
{
    Task<long> Put(string entry, long value);
    Task<Dictionary<string, long>> Entries();
    Task StartReminder(TimeSpan period);
    Task<List<DateTimeOffset>> Ticks();
    Task<long> PutSlowly(string entry, long value, int delayMs);
}

public sealed class LedgerGrain([PersistentState("ledger")] IPersistentState<LedgerState> state) : Grain, ILedgerGrain, IRemindable
{
    public async Task<long> Put(string entry, long value)
    {
        state.State.Entries[entry] = value;
        await state.WriteStateAsync();
        return value;
    }

    public async Task<long> PutSlowly(string entry, long value, int delayMs)
    {
        await Task.Delay(delayMs);
        return await Put(entry, value);
    }

    public Task<Dictionary<string, long>> Entries() => Task.FromResult(state.State.Entries);

    public Task StartReminder(TimeSpan period) => RegisterOrUpdateReminder("tick", TimeSpan.Zero, period);

    public Task<List<DateTimeOffset>> Ticks() => Task.FromResult(state.State.Ticks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks.Add(DateTimeOffset.UtcNow);
        await state.WriteStateAsync();
    }
}

/// <summary>Maps /test/ledger endpoints onto the ledger grain.</summary>
public sealed class TestGrainsExtension : ISiloExtension
{
    /// <summary>Set to a file path, the silo gets <see cref="RecordingDeployStarter"/> as its deploy starter.</summary>
    public const string DeployLogVariable = "PLATFORM_TEST_DEPLOY_LOG";

    public void ConfigureServices(IServiceCollection services)
    {
        if (Environment.GetEnvironmentVariable(DeployLogVariable) is { Length: > 0 } log)
            services.AddSingleton<Platform.Grains.Rules.IDeployStarter>(new RecordingDeployStarter(log));
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/test/ledger/{key}");
        group.MapPut("/{entry}/{value:long}", async (string key, string entry, long value, IGrainFactory grains) =>
            Results.Ok(await grains.GetGrain<ILedgerGrain>(key).Put(entry, value)));
        group.MapPut("/{entry}/{value:long}/slowly", async (string key, string entry, long value, int delayMs, IGrainFactory grains) =>
            Results.Ok(await grains.GetGrain<ILedgerGrain>(key).PutSlowly(entry, value, delayMs)));
        group.MapGet("/", async (string key, IGrainFactory grains) => Results.Ok(await grains.GetGrain<ILedgerGrain>(key).Entries()));
        group.MapPost("/reminder", async (string key, int periodMs, IGrainFactory grains) =>
        {
            await grains.GetGrain<ILedgerGrain>(key).StartReminder(TimeSpan.FromMilliseconds(periodMs));
            return Results.Ok();
        });
        group.MapGet("/ticks", async (string key, IGrainFactory grains) => Results.Ok(await grains.GetGrain<ILedgerGrain>(key).Ticks()));
        // The silo's own rule deploy starter, called as the rules engine calls it, so a test can repeat an idempotency key.
        endpoints.MapPost("/test/deploy-starter", async (string key, string manifestUrl, string fleet, IGrainFactory grains, Platform.Silo.Access.AuditLog audit) =>
        {
            var request = new Platform.Grains.Rules.RuleDeployRequest(manifestUrl, null,
                new Platform.Grains.Rules.RuleDeployTarget(Tags: new() { ["role"] = "^web$", ["fleet"] = $"^{fleet}$" }), null, key, "rule-test");
            try
            {
                return Results.Ok(await new Platform.Silo.Endpoints.Deploys.RuleDeployStarter(grains, audit).StartDeployAsync(request, CancellationToken.None));
            }
            catch (Platform.Grains.Rules.RuleActionException e)
            {
                return Results.BadRequest(e.Message);
            }
        });
    }
}

/// <summary>
/// A deploy starter that appends each request's idempotency key to a file; the first request for a key whose manifest
/// URL contains "hang" never answers (the test kills the silo meanwhile), a later one for the same key answers at once.
/// </summary>
public sealed class RecordingDeployStarter(string log) : Platform.Grains.Rules.IDeployStarter
{
    public async Task<string> StartDeployAsync(Platform.Grains.Rules.RuleDeployRequest request, CancellationToken cancellationToken)
    {
        var seen = File.Exists(log) && File.ReadAllLines(log).Contains(request.IdempotencyKey);
        File.AppendAllLines(log, [request.IdempotencyKey]);
        if (!seen && request.ManifestUrl?.Contains("hang", StringComparison.Ordinal) == true) await Task.Delay(Timeout.Infinite, cancellationToken);
        return "deploy-" + request.IdempotencyKey.Length;
    }
}

using Platform.Grains.Access;
using Platform.Runtime.Hosting;

namespace Platform.Silo.Access;

/// <summary>
/// Keeps <see cref="AccessControl"/>'s copy of the tokens: subscribed to the access grain, which pushes each change,
/// and renewing (re-reading the set) every <see cref="AccessOptions.RefreshInterval"/>, which bounds how late a
/// missed push is caught up.
/// </summary>
public sealed partial class AccessSync(GrainRuntime runtime, AccessControl access, AccessOptions options, ILogger<AccessSync> logger) : IAccessObserver, IAsyncDisposable
{
    private readonly string _key = $"{runtime.Options.SiloName}/{Guid.NewGuid():N}";
    private readonly CancellationTokenSource _stopping = new();
    private IAccessObserver? _self;
    private Task? _renewing;

    /// <summary>The cluster's token grain.</summary>
    public IAccessGrain Grain => runtime.GetGrain<IAccessGrain>("default");

    /// <summary>Subscribes and reads the set once; throws when the grain cannot be reached (the silo does not start open by mistake).</summary>
    public async Task<TokenSet> LoadAsync(CancellationToken cancellationToken)
    {
        _self ??= runtime.CreateObjectReference<IAccessObserver>(this);
        var set = await Grain.Subscribe(_self, _key).WaitAsync(cancellationToken);
        access.Apply(set);
        return set;
    }

    /// <summary>Starts renewing in the background.</summary>
    public void StartRenewing() => _renewing ??= RenewLoop(_stopping.Token);

    public Task OnTokens(TokenSet set)
    {
        access.Apply(set);
        return Task.CompletedTask;
    }

    private async Task RenewLoop(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await LoadAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRenewFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_renewing is { } renewing) await renewing;
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "access: renewing this silo's copy of the tokens failed; it keeps the copy it has and retries")]
    private static partial void LogRenewFailed(ILogger logger, Exception error);
}

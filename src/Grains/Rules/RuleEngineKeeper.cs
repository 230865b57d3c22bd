using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;

namespace Platform.Grains.Rules;

/// <summary>
/// Wakes the rule engine from every silo at start and every <see cref="RulesOptions.KeepAliveInterval"/>: the engine
/// stays active (its feeds are subscriptions, not calls, so nothing else would keep it), and after a restart or a move
/// to another silo it resumes its feeds and finishes the intents it recorded.
/// </summary>
public sealed partial class RuleEngineKeeper(IGrainFactory grains, IOptions<RulesOptions> options, ILogger<RuleEngineKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var engine = grains.GetGrain<IRuleEngineGrain>(RuleEngineGrain.DefaultKey);
        var failures = 0;
        var delay = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await engine.Wake().WaitAsync(stoppingToken);
                if (failures > 0) LogEngineAnswers(logger, failures);
                failures = 0;
                delay = options.Value.KeepAliveInterval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (++failures == 1 || failures % 10 == 0)
                    LogEngineWakeFailed(logger, e.Message, failures);
                delay = TimeSpan.FromMilliseconds(Math.Min(options.Value.KeepAliveInterval.TotalMilliseconds, Math.Max(200, delay.TotalMilliseconds * 2)));
            }
            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

using System.Globalization;
using Platform.Builds.Bench;
using Platform.Nodes.Bench;

// Builds benchmarks against a silo process with simulated or real build agents; the first argument picks one.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Console.CancelKeyPress += (_, _) => ChildProcess.KillAll();
var mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "hook";
var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
try
{
    return mode switch
    {
        "hook" => await HookBench.RunAsync(rest),
        "queue" => await QueueBench.RunAsync(rest),
        "log" => await LogBench.RunAsync(rest),
        _ => throw new BenchFailure($"unknown benchmark '{mode}'; expected hook, queue or log"),
    };
}
catch (BenchFailure failure)
{
    Console.Error.WriteLine($"builds bench: {failure.Message}");
    return 1;
}

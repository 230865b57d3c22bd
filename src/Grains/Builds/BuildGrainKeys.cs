using System.Globalization;

namespace Platform.Grains.Builds;

/// <summary>How build ids, job ids and log keys are made: <c>{repository}/{number}</c>, <c>{build}/{job key}</c>, <c>{job}/{attempt}</c>.</summary>
public static class BuildGrainKeys
{
    public static string Build(string repository, int number) => $"{repository}/{number.ToString(CultureInfo.InvariantCulture)}";

    public static string Job(string buildId, string jobKey) => $"{buildId}/{jobKey}";

    /// <summary>The key of the log grain of one attempt of a job.</summary>
    public static string Log(string jobId, int attempt) => $"{jobId}/{attempt.ToString(CultureInfo.InvariantCulture)}";
}

using Platform.Grains.Builds;
using Platform.Runtime;

namespace Platform.Silo.Artifacts;

/// <summary>
/// Whether a token of scope <c>agent</c> may write an artifact (docs/artifacts.md, "Uploads by agents"): only under a
/// build, <c>{build id}/{path}</c>, one of whose jobs is on an agent (assigned or running) that connected with this very
/// token. An agent's token may not write anything else: a node must not replace what deploys to the whole fleet.
/// </summary>
public sealed class AgentUploadGate(IGrainFactory grains)
{
    /// <summary>Build ids are <c>{repository}/{number}</c>: at most this many numeric segments of a name are tried as the number.</summary>
    private const int MaxCandidates = 8;

    /// <summary>True when <paramref name="token"/> may write <paramref name="name"/>.</summary>
    public async Task<bool> AllowsAsync(string token, string? name)
    {
        if (ArtifactName.Problem(name) is not null) return false;
        foreach (var build in BuildIds(name!))
        {
            if (await grains.GetGrain<IBuildGrain>(build).RunsJobFor(token)) return true;
        }
        return false;
    }

    /// <summary>
    /// The build ids <paramref name="name"/> may start with: every prefix ending in a segment of digits (the build's
    /// number) after at least one segment (the repository) and before at least one more (the path in the build).
    /// </summary>
    public static IEnumerable<string> BuildIds(string name)
    {
        var segments = name.Split('/');
        var found = 0;
        for (var i = 1; i < segments.Length - 1 && found < MaxCandidates; i++)
        {
            if (segments[i].Length is 0 or > 10 || !segments[i].All(char.IsAsciiDigit)) continue;
            found++;
            yield return string.Join('/', segments, 0, i + 1);
        }
    }

    /// <summary>The refusal's message: what an agent's token may write, and that this is not it.</summary>
    public static string Refusal(string token, string? name)
        => $"token '{token}' has scope 'agent', which may write artifacts only under a build that an agent connected with it is running "
            + $"(PUT /v1/artifacts/{{build id}}/{{path}} while a job of that build is assigned to or running on it); '{name}' is not under such a build";
}

using System.Text.RegularExpressions;
using Platform.Grains.Builds;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>The JSON shapes of the builds API (camelCase on the wire), its error answer and its name checks.</summary>
internal static partial class BuildsJson
{
    public static IResult Error(int status, string message) => TypedResults.Json(new BuildsError(message), statusCode: status);

    public static BuildSummary Summary(BuildState b) => new(b.Id, b.Repository, b.Number, b.Branch, b.Commit, b.State, b.Trigger, b.TriggeredBy, b.Error, b.Created, b.Started, b.Finished);

    /// <summary>Null when <paramref name="name"/> is a repository name (segments of letters, digits, '.', '_', '-' joined by '/'), else why not.</summary>
    public static string? CheckRepository(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "the repository name is empty; expected owner/name as the hooks give it";
        if (name.Length > 200 || !RepositoryName().IsMatch(name) || name.Split('/').Any(s => s is "." or ".."))
            return $"repository name '{name}' is not valid; expected segments of letters, digits, '.', '_' and '-' joined by '/', such as team/app";
        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")]
    private static partial Regex RepositoryName();
}

/// <summary>Every error of the builds API: <c>{"error":"..."}</c>.</summary>
public sealed record BuildsError(string Error);

/// <summary>A build in a listing.</summary>
public sealed record BuildSummary(string Id, string Repository, int Number, string Branch, string Commit, string State, string Trigger, string? TriggeredBy,
    string? Error, DateTimeOffset Created, DateTimeOffset? Started, DateTimeOffset? Finished);

/// <summary>Body of <c>PUT /v1/repos/{name}</c>: the secret is write-only.</summary>
public sealed record RepositoryBody(string? CloneUrl, string? Secret, bool? CancelRunning, int? Priority);

/// <summary>Body of <c>POST /v1/builds</c>.</summary>
public sealed record StartBody(string? Repo, string? Branch, string? Commit);

/// <summary>The answer to a push hook.</summary>
public sealed record HookAnswer(List<string> Builds, List<string> Notes, bool Duplicate = false, string? Ignored = null);

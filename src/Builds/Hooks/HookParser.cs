using System.Text.Json;

namespace Platform.Builds.Hooks;

/// <summary>
/// Reads push hooks from Bitbucket Cloud (<c>repo:push</c>), GitHub (<c>push</c>) and GitLab (<c>Push Hook</c>,
/// <c>Tag Push Hook</c>) into <see cref="PushEvent"/>s. Other event types are ignored; bodies without the fields a push
/// has are invalid, naming the field.
/// </summary>
public static class HookParser
{
    public const string Bitbucket = "bitbucket";
    public const string GitHub = "github";
    public const string GitLab = "gitlab";

    private const string ZeroCommit = "0000000000000000000000000000000000000000";

    /// <summary>Reads a delivery; <paramref name="header"/> returns a request header's value or null.</summary>
    public static HookDelivery Read(string provider, Func<string, string?> header, ReadOnlyMemory<byte> body) => provider switch
    {
        Bitbucket => ReadBitbucket(header, body),
        GitHub => ReadGitHub(header, body),
        GitLab => ReadGitLab(header, body),
        _ => throw new ArgumentException($"unknown provider '{provider}'; expected {Bitbucket}, {GitHub} or {GitLab}", nameof(provider)),
    };

    private static HookDelivery ReadBitbucket(Func<string, string?> header, ReadOnlyMemory<byte> body)
    {
        var eventType = header("X-Event-Key");
        var delivery = header("X-Request-UUID");
        if (string.IsNullOrEmpty(eventType)) return new(Bitbucket, "", null, delivery, new HookResult.Invalid("header X-Event-Key is missing; Bitbucket sends it on every delivery"));
        if (eventType != "repo:push") return new(Bitbucket, eventType, null, delivery, new HookResult.Ignored($"event '{eventType}' is not a push (repo:push)"));
        return Parse(Bitbucket, eventType, delivery, body, root =>
        {
            var repository = Json.String(root, "repository", "full_name");
            var pusher = Json.OptionalString(root, "actor", "display_name");
            var changes = Json.Array(root, "push", "changes");
            var events = new List<PushEvent>();
            var i = 0;
            foreach (var change in changes.EnumerateArray())
            {
                var at = $"push.changes[{i++}]";
                var created = Json.OptionalBool(change, "created");
                var closed = Json.OptionalBool(change, "closed");
                var forced = Json.OptionalBool(change, "forced");
                var next = Json.OptionalObject(change, at, "new");
                var old = Json.OptionalObject(change, at, "old");
                var side = next ?? old ?? throw new HookFieldException($"{at}: both 'new' and 'old' are null");
                var sideName = next is null ? "old" : "new";
                var kind = Json.StringAt(side, $"{at}.{sideName}", "type") switch
                {
                    "branch" or "named_branch" => RefKind.Branch,
                    "tag" or "annotated_tag" => RefKind.Tag,
                    var other => throw new HookFieldException($"{at}.{sideName}.type is '{other}'; expected branch or tag"),
                };
                events.Add(new PushEvent(Bitbucket, repository, kind, Json.StringAt(side, $"{at}.{sideName}", "name"),
                    next is null ? null : Json.StringAt(next.Value, $"{at}.new", "target", "hash"),
                    old is null ? null : Json.StringAt(old.Value, $"{at}.old", "target", "hash"),
                    created || old is null, closed || next is null, forced, pusher, delivery));
            }
            return (repository, events);
        });
    }

    private static HookDelivery ReadGitHub(Func<string, string?> header, ReadOnlyMemory<byte> body)
    {
        var eventType = header("X-GitHub-Event");
        var delivery = header("X-GitHub-Delivery");
        if (string.IsNullOrEmpty(eventType)) return new(GitHub, "", null, delivery, new HookResult.Invalid("header X-GitHub-Event is missing; GitHub sends it on every delivery"));
        if (eventType != "push") return new(GitHub, eventType, null, delivery, new HookResult.Ignored($"event '{eventType}' is not a push"));
        return Parse(GitHub, eventType, delivery, body, root =>
        {
            var repository = Json.String(root, "repository", "full_name");
            var (kind, name) = SplitRef(Json.String(root, "ref"), "ref");
            var after = Json.String(root, "after");
            var before = Json.String(root, "before");
            var deleted = Json.OptionalBool(root, "deleted") || after == ZeroCommit;
            var created = Json.OptionalBool(root, "created") || before == ZeroCommit;
            var push = new PushEvent(GitHub, repository, kind, name, deleted ? null : after, created ? null : before, created, deleted,
                Json.OptionalBool(root, "forced"), Json.OptionalString(root, "pusher", "name"), delivery);
            return (repository, [push]);
        });
    }

    private static HookDelivery ReadGitLab(Func<string, string?> header, ReadOnlyMemory<byte> body)
    {
        var eventType = header("X-Gitlab-Event");
        var delivery = header("Idempotency-Key") ?? header("X-Gitlab-Event-UUID");
        if (string.IsNullOrEmpty(eventType)) return new(GitLab, "", null, delivery, new HookResult.Invalid("header X-Gitlab-Event is missing; GitLab sends it on every delivery"));
        if (eventType is not ("Push Hook" or "Tag Push Hook")) return new(GitLab, eventType, null, delivery, new HookResult.Ignored($"event '{eventType}' is not a push (Push Hook, Tag Push Hook)"));
        return Parse(GitLab, eventType, delivery, body, root =>
        {
            var repository = Json.String(root, "project", "path_with_namespace");
            var (kind, name) = SplitRef(Json.String(root, "ref"), "ref");
            var after = Json.String(root, "after");
            var before = Json.String(root, "before");
            var deleted = after == ZeroCommit;
            var created = before == ZeroCommit;
            var push = new PushEvent(GitLab, repository, kind, name, deleted ? null : after, created ? null : before, created, deleted,
                false, Json.OptionalString(root, "user_username"), delivery);
            return (repository, [push]);
        });
    }

    private static (RefKind, string) SplitRef(string fullRef, string field)
    {
        if (fullRef.StartsWith("refs/heads/", StringComparison.Ordinal) && fullRef.Length > 11) return (RefKind.Branch, fullRef[11..]);
        if (fullRef.StartsWith("refs/tags/", StringComparison.Ordinal) && fullRef.Length > 10) return (RefKind.Tag, fullRef[10..]);
        throw new HookFieldException($"{field} is '{fullRef}'; expected refs/heads/BRANCH or refs/tags/TAG");
    }

    private static HookDelivery Parse(string provider, string eventType, string? delivery, ReadOnlyMemory<byte> body,
        Func<JsonElement, (string Repository, List<PushEvent> Events)> read)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return new(provider, eventType, null, delivery, new HookResult.Invalid($"the body is not JSON: {e.Message}"));
        }
        using (document)
        {
            try
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    return new(provider, eventType, null, delivery, new HookResult.Invalid("the body is not a JSON object"));
                var (repository, events) = read(document.RootElement);
                return new(provider, eventType, repository, delivery, new HookResult.Pushes(events));
            }
            catch (HookFieldException e)
            {
                return new(provider, eventType, null, delivery, new HookResult.Invalid(e.Message));
            }
        }
    }
}

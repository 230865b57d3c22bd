namespace Platform.Builds.Hooks;

/// <summary>What a push hook reports, the same for every provider.</summary>
/// <param name="Provider">bitbucket, github or gitlab.</param>
/// <param name="Repository">The provider's full name: <c>owner/name</c> (GitLab: the path with its namespace).</param>
/// <param name="Kind">A branch or a tag.</param>
/// <param name="Ref">The branch or tag name, without <c>refs/heads/</c> or <c>refs/tags/</c>.</param>
/// <param name="Commit">The commit the ref now points at; null when the ref was deleted.</param>
/// <param name="Before">The commit it pointed at before; null when it was created.</param>
/// <param name="Created">The ref did not exist before this push.</param>
/// <param name="Deleted">The push deleted the ref: nothing to build.</param>
/// <param name="Forced">The push rewrote history.</param>
/// <param name="Pusher">Who pushed, as the provider names them.</param>
/// <param name="DeliveryId">The provider's id of this delivery, the same when it redelivers (null if it sends none).</param>
public sealed record PushEvent(
    string Provider,
    string Repository,
    RefKind Kind,
    string Ref,
    string? Commit,
    string? Before,
    bool Created,
    bool Deleted,
    bool Forced,
    string? Pusher,
    string? DeliveryId);

public enum RefKind
{
    Branch,
    Tag,
}

/// <summary>The outcome of reading one hook delivery.</summary>
public abstract record HookResult
{
    private HookResult() { }

    /// <summary>Pushes to queue (Bitbucket may report several refs in one delivery).</summary>
    public sealed record Pushes(IReadOnlyList<PushEvent> Events) : HookResult;

    /// <summary>A valid delivery that is not a push (a ping, an issue comment…): answered 200 with the reason, as providers expect.</summary>
    public sealed record Ignored(string Reason) : HookResult;

    /// <summary>The body is not what the provider sends: answered 400 naming the field.</summary>
    public sealed record Invalid(string Reason) : HookResult;
}

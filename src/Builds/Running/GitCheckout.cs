using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Builds.Running;

/// <summary>
/// Checks a repository out at an exact commit with the real <c>git</c>: the commit is fetched into a bare mirror kept per
/// repository under <see cref="MirrorsDirectory"/> (so a second job of the same repository fetches only what is new),
/// and each job gets its own work tree sharing the mirror's objects.
/// </summary>
public sealed partial class GitCheckout(string mirrorsDirectory)
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_mirrorLocks = new(StringComparer.Ordinal);

    /// <summary>Where the per-repository mirrors live.</summary>
    public string MirrorsDirectory { get; } = mirrorsDirectory;

    /// <summary>
    /// Makes <paramref name="workTree"/> (which must not exist) a checkout of <paramref name="repository"/> at
    /// <paramref name="commit"/>, detached. Throws <see cref="JobFailedException"/> for a commit the repository does not have.
    /// </summary>
    public Task CheckoutAsync(string repository, string commit, string workTree, CancellationToken cancellationToken)
        => CheckoutAsync(repository, commit, null, workTree, cancellationToken);

    /// <summary>
    /// As <see cref="CheckoutAsync(string, string, string, CancellationToken)"/>, but an empty <paramref name="commit"/> means
    /// the head of <paramref name="branch"/> as the repository has it now. Answers the full id of the commit checked out.
    /// </summary>
    public async Task<string> CheckoutAsync(string repository, string commit, string? branch, string workTree, CancellationToken cancellationToken)
    {
        CheckRepository(repository);
        if (commit.Length > 0 || branch is null) CheckCommit(commit);
        else CheckBranch(branch);
        Directory.CreateDirectory(MirrorsDirectory);
        var mirror = Path.Combine(MirrorsDirectory, MirrorName(repository));
        var gate = s_mirrorLocks.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!Directory.Exists(mirror))
                await GitAsync(null, ["init", "--quiet", "--bare", mirror], "make the repository's mirror", cancellationToken).ConfigureAwait(false);
            if (commit.Length == 0)
            {
                // No commit: the branch's head now. The fetched head is what the job builds and reports.
                var (code, _, error) = await GitCommand.RunAsync(mirror,
                    ["fetch", "--quiet", "--no-tags", "--", repository, $"+refs/heads/{branch}:refs/platform/heads/{branch}"], cancellationToken).ConfigureAwait(false);
                if (code != 0)
                    throw new JobFailedException($"branch '{branch}' cannot be fetched from repository '{repository}': {GitCommand.OneLine(error)}");
                var (resolved, head, _) = await GitCommand.RunAsync(mirror, ["rev-parse", "--verify", $"refs/platform/heads/{branch}^{{commit}}"], cancellationToken).ConfigureAwait(false);
                if (resolved != 0) throw new JobFailedException($"branch '{branch}' of repository '{repository}' has no commit");
                commit = head.Trim();
            }
            if (!await HasCommitAsync(mirror, commit, cancellationToken).ConfigureAwait(false))
            {
                // Fetching the commit itself gets exactly it (and works for a commit no branch points at any more).
                var (code, _, error) = await GitCommand.RunAsync(mirror, ["fetch", "--quiet", "--no-tags", "--", repository, commit], cancellationToken).ConfigureAwait(false);
                if (code != 0 && !await HasCommitAsync(mirror, commit, cancellationToken).ConfigureAwait(false))
                {
                    // A short commit id, or a server that refuses unadvertised ids: fetch the branches and tags and look again.
                    var (all, _, allError) = await GitCommand.RunAsync(mirror,
                        ["fetch", "--quiet", "--", repository, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], cancellationToken).ConfigureAwait(false);
                    if (all != 0)
                        throw new JobFailedException($"repository '{repository}' cannot be fetched: {GitCommand.OneLine(allError.Length > 0 ? allError : error)}");
                    if (!await HasCommitAsync(mirror, commit, cancellationToken).ConfigureAwait(false))
                        throw new JobFailedException($"commit '{commit}' does not exist in repository '{repository}'");
                }
            }
            // Pinning the commit with a ref keeps the mirror's garbage collection from dropping what a work tree uses.
            await GitAsync(mirror, ["update-ref", "refs/platform/" + commit, commit], "pin the commit", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(workTree))!);
        await GitAsync(null, ["clone", "--quiet", "--shared", "--no-checkout", "--", mirror, workTree], "make the job's work tree", cancellationToken).ConfigureAwait(false);
        await GitAsync(workTree, ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], $"check out commit '{commit}'", cancellationToken).ConfigureAwait(false);
        var (full, id, _) = await GitCommand.RunAsync(workTree, ["rev-parse", "HEAD"], cancellationToken).ConfigureAwait(false);
        return full == 0 ? id.Trim() : commit;
    }

    /// <summary>A branch name git accepts (<c>git check-ref-format --branch</c> rules, checked without running git).</summary>
    public static void CheckBranch(string branch)
    {
        if (!BranchName().IsMatch(branch) || branch.Contains("..", StringComparison.Ordinal) || branch.Contains("//", StringComparison.Ordinal)
            || branch.EndsWith('/') || branch.EndsWith(".lock", StringComparison.Ordinal) || branch.Contains("@{", StringComparison.Ordinal))
            throw new JobFailedException($"branch '{branch}' is not a branch name; expected one such as main or release/1.2");
    }

    /// <summary>A commit id: 4 to 64 hexadecimal digits (a full id names the build exactly); anything else is refused.</summary>
    public static void CheckCommit(string commit)
    {
        if (!CommitId().IsMatch(commit))
            throw new JobFailedException($"commit '{commit}' is not a commit id; expected 40 hexadecimal digits such as 8fb0eefc6a340d57598ca553a07fade1a10f2c30");
    }

    /// <summary>A repository URL or path git may fetch from; an option-looking or multi-line value is refused.</summary>
    public static void CheckRepository(string repository)
    {
        if (string.IsNullOrWhiteSpace(repository) || repository.StartsWith('-') || repository.Any(char.IsControl))
            throw new JobFailedException($"repository '{repository}' is not a repository URL; expected one such as https://example.com/team/app.git or file:///srv/git/app.git");
        if (repository.Contains("::", StringComparison.Ordinal))
            throw new JobFailedException($"repository '{repository}' names a git remote helper; expected a file, git, http, https or ssh URL");
    }

    private static async Task<bool> HasCommitAsync(string mirror, string commit, CancellationToken cancellationToken)
    {
        var (code, output, _) = await GitCommand.RunAsync(mirror, ["rev-parse", "--quiet", "--verify", commit + "^{commit}"], cancellationToken).ConfigureAwait(false);
        // A short id must name the commit, not merely a prefix of one that rev-parse expanded from another object.
        return code == 0 && output.Trim().StartsWith(commit, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task GitAsync(string? directory, string[] args, string what, CancellationToken cancellationToken)
    {
        var (code, _, error) = await GitCommand.RunAsync(directory, args, cancellationToken).ConfigureAwait(false);
        if (code != 0) throw new JobFailedException($"git could not {what}: {GitCommand.OneLine(error)}");
    }

    private static string MirrorName(string repository)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repository)));
        return hash[..24] + ".git";
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}$")]
    private static partial Regex BranchName();

    [GeneratedRegex("^[0-9a-fA-F]{4,64}$")]
    private static partial Regex CommitId();
}

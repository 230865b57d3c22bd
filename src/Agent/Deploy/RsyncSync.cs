namespace Platform.Agent.Deploy;

/// <summary>The default sync: the real <c>rsync -a --delete</c> from the extracted tree into <c>dest</c>, with the manifest's excludes.</summary>
public static class RsyncSync
{
    /// <summary>The arguments given to rsync (Stretcher's, plus <c>--bwlimit</c> when a bandwidth limit is set).</summary>
    public static List<string> Arguments(StretchManifest manifest, StretchOptions options, string from, string to)
    {
        from = from.EndsWith('/') ? from : from + "/";
        to = to.EndsWith('/') ? to : to + "/";
        var args = new List<string> { "-a", "--delete" };
        if (!string.IsNullOrEmpty(options.RsyncVerbose)) args.Add(options.RsyncVerbose);
        // rsync counts in units of 1024 bytes per second; 0 would mean no limit.
        if (options.MaxBandwidth is { } bandwidth) args.Add($"--bwlimit={Math.Max(1, bandwidth / 1024)}");
        if (manifest.ExcludeFrom is { } excludeFrom) args.AddRange(["--exclude-from", from + excludeFrom]);
        foreach (var exclude in manifest.Excludes) args.AddRange(["--exclude", exclude]);
        args.Add(from);
        args.Add(to);
        return args;
    }

    /// <summary>Runs rsync; a non-zero exit is a <see cref="DeployException"/>.</summary>
    public static async Task RunAsync(StretchManifest manifest, StretchOptions options, string from, DeployLog log, CancellationToken cancellationToken)
    {
        var args = Arguments(manifest, options, from, manifest.Dest!);
        log.Line("rsync " + string.Join(' ', args));
        var exit = await ShellCommand.RunProgramAsync("rsync", args, log, options.CancelGrace, cancellationToken).ConfigureAwait(false);
        if (exit != 0) throw new DeployException($"rsync into {manifest.Dest} exited with {exit}");
    }
}

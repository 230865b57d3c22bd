namespace Platform.Agent.Deploy;

/// <summary><c>sync_strategy: mv</c>: the extracted directory is renamed to <c>dest</c>, which must not exist yet (an empty directory may, as for rename(2)).</summary>
public static class MoveSync
{
    /// <summary>Where to extract so that the rename stays on one file system: beside <c>dest</c>.</summary>
    public static string StagingDirectory(string dest)
    {
        var full = Path.GetFullPath(dest.TrimEnd('/'));
        var parent = Path.GetDirectoryName(full) ?? throw new DeployException($"dest: '{dest}' has no parent directory to stage the mv in");
        if (!Directory.Exists(parent)) throw new DeployException($"dest: the parent directory of '{dest}' does not exist");
        return Path.Combine(parent, $".{Path.GetFileName(full)}.stretch-{Guid.NewGuid():N}");
    }

    /// <summary>Renames <paramref name="from"/> to <paramref name="dest"/>.</summary>
    public static void Run(string from, string dest, DeployLog log)
    {
        dest = Path.GetFullPath(dest.TrimEnd('/'));
        log.Line($"Rename srcdir {from} to dest {dest}");
        if (new FileInfo(dest).LinkTarget is not null || File.Exists(dest))
            throw new DeployException($"sync_strategy mv: dest {dest} exists and is not a directory");
        if (Directory.Exists(dest))
        {
            if (Directory.EnumerateFileSystemEntries(dest).Any())
                throw new DeployException($"sync_strategy mv: dest {dest} already exists and is not empty; mv needs a new dest (use rsync to update one in place)");
            Directory.Delete(dest);
        }
        Directory.Move(from, dest);
    }
}

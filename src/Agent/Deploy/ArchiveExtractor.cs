using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Platform.Agent.Deploy;

/// <summary>
/// Extracts a tar or tar.gz into a directory with GNU tar's rules: modes from the archive (less the umask unless root),
/// modification times kept, directory modes applied last, symbolic links created as stored. An entry that is absolute,
/// has a <c>..</c> component, or would be written through a symbolic link is refused, so nothing lands outside the directory.
/// </summary>
public static class ArchiveExtractor
{
    private const UnixFileMode PermissionBits = (UnixFileMode)0b111_111_111_111;

    /// <summary>Extracts <paramref name="archive"/> (tar, or tar compressed with gzip) into the existing directory <paramref name="root"/>.</summary>
    public static async Task ExtractAsync(string archive, string root, CancellationToken cancellationToken)
    {
        root = Path.GetFullPath(root);
        var umask = Environment.IsPrivilegedProcess ? 0 : ReadUmask();
        var directories = new List<(string Path, UnixFileMode Mode, DateTimeOffset Time)>();
        await using var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var magic = new byte[2];
        var gzip = await file.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            await using var reader = new TarReader(stream, leaveOpen: true);
            while (true)
            {
                TarEntry? entry;
                try
                {
                    entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
                {
                    throw new DeployException($"src is not a readable tar or tar.gz archive: {e.Message}", e);
                }
                if (entry is null) break;
                await ExtractEntryAsync(entry, root, (UnixFileMode)umask, directories, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (gzip) await stream.DisposeAsync().ConfigureAwait(false);
        }
        // As tar does: directory modes and times last, deepest first, so a read-only directory still received its files.
        for (var i = directories.Count - 1; i >= 0; i--)
        {
            var (path, mode, time) = directories[i];
            UnixMode.Set(path, mode);
            Directory.SetLastWriteTimeUtc(path, time.UtcDateTime);
        }
    }

    private static async Task ExtractEntryAsync(TarEntry entry, string root, UnixFileMode umask, List<(string, UnixFileMode, DateTimeOffset)> directories, CancellationToken cancellationToken)
    {
        var name = Normalize(entry.Name);
        var mode = entry.Mode & PermissionBits & ~umask;
        if (name.Length == 0)
        {
            // The archive's "." entry: its mode is the extraction root's until dest_mode replaces it.
            if (entry.EntryType == TarEntryType.Directory) directories.Add((root, mode, entry.ModificationTime));
            return;
        }
        var path = Path.Combine(root, name);
        CheckParents(root, name, entry.Name);

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (IsSymlink(path)) File.Delete(path);
                else if (File.Exists(path)) File.Delete(path);
                Directory.CreateDirectory(path);
                // Until the end the directory stays writable for its own entries.
                UnixMode.Set(path, mode | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                directories.Add((path, mode, entry.ModificationTime));
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                RemoveExisting(path, entry.Name);
                await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    if (entry.DataStream is { } data) await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                }
                UnixMode.Set(path, mode);
                File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
                break;
            case TarEntryType.SymbolicLink:
                RemoveExisting(path, entry.Name);
                File.CreateSymbolicLink(path, entry.LinkName);
                break;
            case TarEntryType.HardLink:
                var target = Normalize(entry.LinkName);
                if (target.Length == 0) throw new DeployException($"archive entry '{entry.Name}' is a hard link to '{entry.LinkName}', which is not a file of the archive");
                CheckParents(root, target, entry.LinkName);
                var targetPath = Path.Combine(root, target);
                if (IsSymlink(targetPath) || !File.Exists(targetPath))
                    throw new DeployException($"archive entry '{entry.Name}' is a hard link to '{entry.LinkName}', which is not a regular file extracted before it");
                RemoveExisting(path, entry.Name);
                if (Link(targetPath, path) != 0)
                    throw new DeployException($"archive entry '{entry.Name}': cannot link to '{entry.LinkName}': {Marshal.GetLastPInvokeErrorMessage()}");
                break;
            case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                break;
            default:
                throw new DeployException($"archive entry '{entry.Name}' is a {entry.EntryType}; a deploy archive may hold only files, directories and links");
        }
    }

    /// <summary>Strips <c>./</c> prefixes and trailing slashes; refuses absolute names and <c>..</c> components.</summary>
    private static string Normalize(string name)
    {
        if (name.StartsWith('/'))
            throw new DeployException($"archive entry '{name}' has an absolute path; entries must stay inside the extraction directory");
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") throw new DeployException($"archive entry '{name}' has a '..' component; entries must stay inside the extraction directory");
            if (part.Contains('\0', StringComparison.Ordinal)) throw new DeployException($"archive entry '{name}' has a NUL character in its name");
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    /// <summary>Every directory on the way to an entry must be a real directory: writing through a link could leave the root.</summary>
    private static void CheckParents(string root, string name, string entryName)
    {
        var path = root;
        var parts = name.Split('/');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            path = Path.Combine(path, parts[i]);
            if (IsSymlink(path))
                throw new DeployException($"archive entry '{entryName}' would be written through the symbolic link '{string.Join('/', parts[..(i + 1)])}'; refused, as it could leave the extraction directory");
            if (File.Exists(path))
                throw new DeployException($"archive entry '{entryName}': '{string.Join('/', parts[..(i + 1)])}' is a file, not a directory");
            if (!Directory.Exists(path)) Directory.CreateDirectory(path);
        }
    }

    private static void RemoveExisting(string path, string entryName)
    {
        // tar replaces what is there; a link is removed, never followed.
        if (IsSymlink(path) || File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) throw new DeployException($"archive entry '{entryName}' is not a directory, but an earlier entry made it one");
    }

    private static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;

    private static int ReadUmask()
    {
        // Linux reports it in /proc/self/status; reading it with umask(2) would mean changing it for a moment.
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("Umask:", StringComparison.Ordinal))
                    return Convert.ToInt32(line[6..].Trim(), 8);
        }
        catch (IOException)
        {
        }
        return 0b000_010_010; // 022
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
}

using System.Diagnostics;
using System.Globalization;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>One run of an event handler as the handler itself saw it: its SERF_* environment and standard input, byte for byte.</summary>
public sealed record HandlerInvocation(string Id, IReadOnlyDictionary<string, string> Environment, byte[] StdIn)
{
    /// <summary>SERF_EVENT: member-join, …, user or query.</summary>
    public string Event => Environment.GetValueOrDefault("SERF_EVENT", "");
}

/// <summary>
/// The recording handler: a /bin/sh script, one copy per node, that writes per invocation a file with its SERF_*
/// environment and a file with its standard input, in a <c>records</c> folder beside itself. Files are named by the
/// clock in nanoseconds (handlers of one node run one at a time, so the names keep their order) and the
/// environment file appears last, by rename, so a reader never sees half an invocation. A query is answered with
/// <c>load of NODE</c>.
/// </summary>
public static class RecordingHandler
{
    public const string ScriptName = "record-handler.sh";

    private const string Script = """
        #!/bin/sh
        # Records one event handler invocation: SERF_* environment and stdin, byte for byte.
        dir=$(dirname "$0")/records
        id=$(date +%s%N)-$$
        env | grep '^SERF_' > "$dir/$id.env.tmp"
        cat > "$dir/$id.stdin"
        mv "$dir/$id.env.tmp" "$dir/$id.env"
        if [ "$SERF_EVENT" = query ]; then
            echo "load of $SERF_SELF_NAME"
        fi

        """;

    /// <summary>Writes the script into <paramref name="nodeDir"/> (with its empty records folder) and returns its path.</summary>
    public static string Install(string nodeDir)
    {
        Directory.CreateDirectory(Path.Combine(nodeDir, "records"));
        var path = Path.Combine(nodeDir, ScriptName);
        File.WriteAllText(path, Script.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>Every finished invocation recorded in <paramref name="nodeDir"/>, oldest first.</summary>
    public static IReadOnlyList<HandlerInvocation> Read(string nodeDir)
    {
        var records = Path.Combine(nodeDir, "records");
        var result = new List<HandlerInvocation>();
        if (!Directory.Exists(records)) return result;
        foreach (var envFile in Directory.GetFiles(records, "*.env"))
        {
            var id = Path.GetFileNameWithoutExtension(envFile);
            var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in File.ReadAllLines(envFile))
            {
                var eq = line.IndexOf('=');
                if (eq > 0) environment[line[..eq]] = line[(eq + 1)..];
            }
            result.Add(new HandlerInvocation(id, environment, File.ReadAllBytes(Path.Combine(records, id + ".stdin"))));
        }
        result.Sort((a, b) => OrderKey(a.Id).CompareTo(OrderKey(b.Id)));
        return result;
    }

    private static (long Nanos, int Pid) OrderKey(string id)
    {
        var dash = id.IndexOf('-');
        Debug.Assert(dash > 0);
        return (long.Parse(id[..dash], CultureInfo.InvariantCulture), int.Parse(id[(dash + 1)..], CultureInfo.InvariantCulture));
    }
}

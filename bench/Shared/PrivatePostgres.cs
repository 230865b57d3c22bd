using System.Diagnostics;
using Npgsql;

namespace Platform.Bench;

/// <summary>
/// The PostgreSQL the cluster's membership table lives in: PLATFORM_BENCH_PG or PLATFORM_TEST_PG if set, otherwise a
/// private server started with scripts/pg-private.sh and stopped (and deleted) on dispose.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly string? _script;
    private readonly string? _privateDir;

    private PrivatePostgres(string connectionString, string source, string? script, string? privateDir)
    {
        ConnectionString = connectionString;
        Source = source;
        _script = script;
        _privateDir = privateDir;
    }

    public string ConnectionString { get; }
    public string Source { get; }

    public static PrivatePostgres Acquire()
    {
        foreach (var name in new[] { "PLATFORM_BENCH_PG", "PLATFORM_TEST_PG" })
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } cs) return new PrivatePostgres(cs, name, null, null);

        var script = FindUp("scripts/pg-private.sh")
            ?? throw new InvalidOperationException("neither PLATFORM_BENCH_PG nor PLATFORM_TEST_PG is set and scripts/pg-private.sh was not found");
        var (code, output) = Exec("bash", script, "start");
        // The script picks a random free port; another process can take it first. Try again a couple of times.
        for (var attempt = 2; code != 0 && attempt <= 3; attempt++) (code, output) = Exec("bash", script, "start");
        if (code != 0) throw new InvalidOperationException($"{script} start failed ({code}): {output.Trim()}");
        string? connectionString = null, dir = null;
        foreach (var line in output.Split('\n'))
        {
            connectionString = Export(line, "PLATFORM_TEST_PG") ?? connectionString;
            dir = Export(line, "PLATFORM_TEST_PG_DIR") ?? dir;
        }
        if (connectionString is null) throw new InvalidOperationException($"{script} start printed no connection string: {output.Trim()}");
        return new PrivatePostgres(connectionString, $"private server from scripts/pg-private.sh in {dir}", script, dir);
    }

    /// <summary>Server version and durability settings, for the report.</summary>
    public string Describe()
    {
        try
        {
            using var c = new NpgsqlConnection(ConnectionString);
            c.Open();
            var host = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"{host.Host}:{host.Port} ({Source}); " + string.Join(", ", new[] { "server_version", "fsync", "synchronous_commit" }.Select(n =>
            {
                using var cmd = new NpgsqlCommand($"SHOW {n}", c);
                return $"{n}={cmd.ExecuteScalar()}";
            }));
        }
        catch (Exception e)
        {
            return $"({Source}) unreachable: {e.Message}";
        }
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (_script is not null && _privateDir is not null) Exec("bash", _script, "stop", _privateDir);
    }

    private static string? Export(string line, string name)
    {
        var prefix = $"export {name}=";
        return line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..].Trim().Trim('\'') : null;
    }

    private static string? FindUp(string relative)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    private static (int Code, string Output) Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

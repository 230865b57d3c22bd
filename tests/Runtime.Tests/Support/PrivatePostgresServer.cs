using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Platform.Runtime.Tests.Support;

/// <summary>
/// A PostgreSQL server of this test process alone: initdb in a temp dir, loopback only, trust auth, removed on dispose.
/// It can be stopped as by a crash (<c>pg_ctl stop -m immediate</c>) and started again on the same port and data,
/// which no other test notices. Missing binaries fail the caller.
/// </summary>
public sealed class PrivatePostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private readonly string _binDirectory;
    private readonly string _directory;
    private readonly int _port;

    private PrivatePostgresServer(string binDirectory, string directory, int port)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _port = port;
    }

    /// <summary>Connection string of the maintenance database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres";

    /// <summary>The server's port on 127.0.0.1.</summary>
    public int Port => _port;

    /// <summary>The directory holding data and log (for assertions that it never reaches a client).</summary>
    public string Directory => _directory;

    private string Data => Path.Combine(_directory, "data");

    /// <summary>Creates and starts a new server.</summary>
    public static async Task<PrivatePostgresServer> StartAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException($"The private PostgreSQL server needs Linux or macOS; set {PostgresFixture.EnvironmentVariable} instead.");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"platform-pg-{Guid.NewGuid():N}");
        var server = new PrivatePostgresServer(FindServerBinaries(), directory, FreeLoopbackPort());
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
            if (RunningAsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", directory], asServerOwner: false);
            }

            await RunAsync(Path.Combine(server._binDirectory, "initdb"), ["-D", server.Data, "-U", "postgres", "-A", "trust", "--no-sync"], asServerOwner: true);
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the stopped server on the same port and data; returns once it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var log = Path.Combine(_directory, "server.log");
        try
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
                ["start", "-w", "-t", "60", "-D", Data, "-l", log, "-o", $"-c listen_addresses=127.0.0.1 -p {_port} -k {_directory}"],
                asServerOwner: true);
        }
        catch (InvalidOperationException e)
        {
            var serverLog = File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no server log)";
            throw new InvalidOperationException($"{e.Message}\nserver log:\n{serverLog}", e);
        }

        await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Stops the server as a crash would: <c>pg_ctl stop -m immediate</c> (no checkpoint, connections cut).</summary>
    public Task StopImmediatelyAsync() =>
        RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["stop", "-m", "immediate", "-w", "-D", Data], asServerOwner: true);

    /// <summary>A connection string to a new database on this server.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["stop", "-m", "fast", "-w", "-D", Data], asServerOwner: true);
        }

        if (System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task WaitUntilAcceptingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString + ";Pooling=false");
                await connection.OpenAsync();
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static string FindServerBinaries()
    {
        var candidates = new List<string>();
        if (System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var version) ? version : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        foreach (var directory in candidates)
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException(
            $"PostgreSQL tests need a server: {PostgresFixture.EnvironmentVariable} is not set and the server binaries (initdb, pg_ctl) are not in " +
            "/usr/lib/postgresql/*/bin or PATH. Install them (apt-get install postgresql) or set " +
            $"{PostgresFixture.EnvironmentVariable} to an Npgsql connection string (scripts/pg-private.sh start prints one).");
    }

    private static bool RunningAsRoot => Environment.UserName == "root";

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // initdb refuses to run as root, so as root the server's binaries run as the postgres OS user.
    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asServerOwner)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asServerOwner && RunningAsRoot)
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", "postgres", "--", file])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = file;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var commandLine = $"{start.FileName} {string.Join(' ', start.ArgumentList)}";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{commandLine}'");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{commandLine}' did not finish within {CommandTimeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            var message = new StringBuilder($"'{commandLine}' exited with code {process.ExitCode}");
            message.Append('\n').Append(await output).Append(await error);
            throw new InvalidOperationException(message.ToString());
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Platform.Runtime.Tests.Support;

/// <summary>Test classes that need PostgreSQL join this collection and share one server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSql";
}

/// <summary>
/// A PostgreSQL server for tests: the one named by PLATFORM_TEST_PG (an Npgsql connection string) when set,
/// otherwise a private server started here (initdb in a temp dir, loopback only, trust auth) and removed on dispose.
/// Each test class gets its own database from <see cref="DatabaseForAsync"/>. Missing binaries fail the tests.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string EnvironmentVariable = "PLATFORM_TEST_PG";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _databases = new(StringComparer.Ordinal);
    private string? _binDirectory;
    private string? _serverDirectory;

    /// <summary>Connection string of the server's maintenance database (used to create test databases).</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            AdminConnectionString = external;
            await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(30));
            return;
        }

        try
        {
            await StartPrivateServerAsync();
        }
        catch
        {
            await StopPrivateServerAsync();
            throw;
        }
    }

    /// <summary>A connection string to a fresh database that belongs to <paramref name="owner"/> (created on first request).</summary>
    public Task<string> DatabaseForAsync(string owner) =>
        _databases.GetOrAdd(owner, o => new Lazy<Task<string>>(() => CreateDatabaseAsync(o))).Value;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_serverDirectory is not null)
        {
            await StopPrivateServerAsync();
            return;
        }

        // A shared server outlives the run: drop what this run created.
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        foreach (var database in _databases.Values)
        {
            if (database.IsValueCreated && database.Value.IsCompletedSuccessfully)
            {
                var name = new NpgsqlConnectionStringBuilder(database.Value.Result).Database;
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }
        }
    }

    private async Task<string> CreateDatabaseAsync(string owner)
    {
        var prefix = new string([.. owner.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(40)]);
        var name = $"t_{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 3 + 12)];
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    private async Task StartPrivateServerAsync()
    {
        _binDirectory = FindServerBinaries();
        _serverDirectory = Path.Combine(Path.GetTempPath(), $"platform-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_serverDirectory);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException($"The private PostgreSQL server needs Linux or macOS; set {EnvironmentVariable} instead.");
        }

        File.SetUnixFileMode(_serverDirectory, (UnixFileMode)0b111_101_101);
        if (RunningAsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", _serverDirectory], asServerOwner: false);
        }

        var data = Path.Combine(_serverDirectory, "data");
        await RunAsync(Path.Combine(_binDirectory, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"], asServerOwner: true);

        var port = FreeLoopbackPort();
        var log = Path.Combine(_serverDirectory, "server.log");
        try
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
                ["start", "-w", "-t", "60", "-D", data, "-l", log, "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {_serverDirectory}"],
                asServerOwner: true);
        }
        catch (InvalidOperationException e)
        {
            var serverLog = File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no server log)";
            throw new InvalidOperationException($"{e.Message}\nserver log:\n{serverLog}", e);
        }

        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(30));
    }

    private async Task StopPrivateServerAsync()
    {
        if (_serverDirectory is null)
        {
            return;
        }

        var data = Path.Combine(_serverDirectory, "data");
        if (_binDirectory is not null && File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["stop", "-m", "fast", "-w", "-D", data], asServerOwner: true);
        }

        Directory.Delete(_serverDirectory, recursive: true);
        _serverDirectory = null;
    }

    private async Task WaitUntilAcceptingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString);
                await connection.OpenAsync();
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                var where = new NpgsqlConnectionStringBuilder(AdminConnectionString);
                throw new InvalidOperationException($"PostgreSQL at {where.Host}:{where.Port} did not accept connections within {timeout.TotalSeconds:0} s: {e.Message}", e);
            }
        }
    }

    private static string FindServerBinaries()
    {
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
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
            $"PostgreSQL tests need a server: {EnvironmentVariable} is not set and the server binaries (initdb, pg_ctl) are not in " +
            "/usr/lib/postgresql/*/bin or PATH. Install them (apt-get install postgresql) or set " +
            $"{EnvironmentVariable} to an Npgsql connection string (scripts/pg-private.sh start prints one).");
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

using System.Diagnostics;
using System.Globalization;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Tls;

/// <summary>Silo processes on PostgreSQL whose silo-to-silo connections are TLS with certificates of one CA.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloToSiloTlsTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    [Fact]
    public async Task Silos_with_TLS_serve_each_others_grains_and_refuse_a_silo_of_another_CA_or_without_TLS()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Silos_with_TLS_serve_each_others_grains_and_refuse_a_silo_of_another_CA_or_without_TLS));
        var silos = Enumerable.Range(0, 3).Select(i => _certs.IssueSilo($"silo{i}")).ToArray();
        await using var cluster = new SiloClusterProcesses(connection, 3, output,
            extraArgs: i => ["--silo-tls-cert", silos[i].CertFile, "--silo-tls-key", silos[i].KeyFile, "--silo-tls-ca", _certs.CaFile]);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(60));
        foreach (var i in Enumerable.Range(0, 3)) await cluster[i].WaitForOutputAsync("Silo-to-silo TLS with certificate CN=silo", TimeSpan.FromSeconds(30));

        // Requests to each silo's HTTP port reach ledger grains spread over all three: two in three cross a TLS connection.
        await WriteToEveryKeyAsync(cluster, "before");
        await cluster.WaitForAsync([0, 1, 2], (_, s) => s.LedgerActivations > 0, TimeSpan.FromSeconds(10), "every silo hosts ledger grains");

        // A silo whose certificate is of another CA, then one with no TLS at all: each is refused and never joins.
        var rogue = _certs.IssueSilo("rogue", otherCa: true);
        var roguePort = SiloClusterProcesses.DistinctFreePorts(2);
        var (code, stderr, _) = await RunNewcomerAsync(cluster, "rogue", roguePort,
            "--silo-tls-cert", rogue.CertFile, "--silo-tls-key", rogue.KeyFile, "--silo-tls-ca", _certs.CaFile);
        output.WriteLine(stderr);
        Assert.Equal(2, code);
        Assert.Contains("silo-to-silo connections were refused, so this silo does not join the cluster", stderr);
        Assert.Contains("(CN=rogue, issued by CN=Other Test CA) is not signed by the cluster's CA", stderr);
        var rogueAddress = $"127.0.0.1:{roguePort[1]}@";
        await WaitForLogAsync(cluster, l => l.Contains("Refused connection from", StringComparison.Ordinal) && l.Contains($"silo {rogueAddress}", StringComparison.Ordinal)
            && l.Contains("not signed by the cluster's CA", StringComparison.Ordinal), "a silo's log line naming the rogue silo and why it was refused");

        var plainPort = SiloClusterProcesses.DistinctFreePorts(2);
        (code, stderr, _) = await RunNewcomerAsync(cluster, "plain", plainPort);
        output.WriteLine(stderr);
        Assert.Equal(2, code);
        Assert.Contains("plain TCP; this silo takes silo-to-silo connections over TLS only", stderr);

        // The cluster is the three silos, healthy, and keeps serving; the newcomers wrote their rows Dead before
        // exiting, and every silo lists them so once its next table read has them.
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(10));
        string[] newcomers = [rogueAddress, $"127.0.0.1:{plainPort[1]}@"];
        await cluster.WaitForAsync([0, 1, 2], (_, s) => newcomers.All(n =>
                s.Silos.Any(m => m.Address.StartsWith(n, StringComparison.Ordinal))
                && s.Silos.Where(m => m.Address.StartsWith(n, StringComparison.Ordinal)).All(m => m.Status == "Dead")),
            TimeSpan.FromSeconds(10), "every silo lists the rogue and the plain silo as Dead");
        await WriteToEveryKeyAsync(cluster, "after");
        cluster.Passed = true;
    }

    private static async Task WriteToEveryKeyAsync(SiloClusterProcesses cluster, string round)
    {
        await using var load = new LedgerLoad(Enumerable.Range(0, 30).Select(i => $"tls-{round}-{i}"), cluster.HttpPorts,
            requestTimeout: TimeSpan.FromSeconds(10), pauseBetweenWrites: TimeSpan.FromMilliseconds(20));
        var started = Stopwatch.GetTimestamp();
        load.Start();
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(started, TimeSpan.FromSeconds(60));
        await load.StopAsync();
        Assert.True(load.Failures.Count == 0, load.DescribeFailures());
    }

    private static Task<(int ExitCode, string StdErr, string StdOut)> RunNewcomerAsync(SiloClusterProcesses cluster, string name, int[] ports, params string[] tls)
    {
        var dir = Path.Combine(Path.GetTempPath(), "platform-test-" + Guid.NewGuid().ToString("N")[..12]);
        return RunAsync();

        async Task<(int, string, string)> RunAsync()
        {
            Directory.CreateDirectory(dir);
            try
            {
                return await SiloProcess.RunExpectingFailureAsync(
                [
                    "--urls", $"http://127.0.0.1:{ports[0]}",
                    "--data-dir", dir,
                    "--Platform:Extensions:0", Path.Combine(AppContext.BaseDirectory, "Platform.Silo.TestGrains.dll"),
                    "--storage", "postgres",
                    "--postgres", cluster.Connection,
                    "--cluster-id", cluster.ClusterId,
                    "--silo-name", name,
                    "--silo-port", ports[1].ToString(CultureInfo.InvariantCulture),
                    .. tls,
                ]);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task WaitForLogAsync(SiloClusterProcesses cluster, Func<string, bool> line, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Enumerable.Range(0, cluster.Count).Any(i => cluster[i].Output.Split('\n').Any(line)))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}

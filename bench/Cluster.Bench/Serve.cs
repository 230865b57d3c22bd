using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Platform.Runtime.Membership;

namespace Platform.Cluster.Bench;

/// <summary>
/// <c>serve</c>: one silo process of the benchmark cluster. Protocol with the driver, on stdout, one line each:
/// <c>READY pid silo</c> once the silo is Active, then <c>VIEW timestamp version active members</c> for every view
/// it applies (timestamp = <see cref="Stopwatch.GetTimestamp"/>, CLOCK_MONOTONIC, comparable across processes on
/// one machine), and <c>STOPPED</c> after a graceful stop. Stops gracefully on SIGTERM, SIGINT or when stdin closes.
/// Log lines (Information and above) go to stderr.
/// </summary>
public static class Serve
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? postgres = null, clusterId = null, name = $"serve-{Environment.ProcessId}";
        var port = 0;
        Platform.Runtime.Transport.SiloTlsOptions? tls = null;
        for (var i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--postgres": postgres = Next(); break;
                case "--cluster-id": clusterId = Next(); break;
                case "--silo-port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--name": name = Next(); break;
                case "--tls-cert": (tls ??= new()).CertificateFile = Next(); break;
                case "--tls-key": (tls ??= new()).KeyFile = Next(); break;
                case "--tls-ca": (tls ??= new()).CaFile = Next(); break;
                default: throw new ArgumentException($"serve: unknown option {args[i]}");
            }
        }
        if (postgres is null || clusterId is null)
        {
            Console.Error.WriteLine("usage: serve --postgres CONN --cluster-id ID [--silo-port P (0 = any)] [--name NAME]");
            return 2;
        }

        var log = new FileLog(Console.Error);
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        // A dedicated thread: a blocking read must not hold a thread-pool thread for the life of the process.
        new Thread(() =>
        {
            try
            {
                while (Console.In.ReadLine() is not null) { }
            }
            catch (IOException) { }
            stop.TrySetResult();
        })
        { IsBackground = true, Name = "stdin watch" }.Start();

        var silo = await ClusterSilo.StartAsync(postgres, clusterId, port, name, log, tls);
        silo.Cluster.ViewApplied += PrintView;
        Console.Out.WriteLine($"READY {Environment.ProcessId} {silo.Self}");
        PrintView(silo.View);

        await stop.Task;
        silo.Cluster.ViewApplied -= PrintView;
        await silo.DisposeAsync();
        Console.Out.WriteLine("STOPPED");
        log.Dispose();
        return 0;
    }

    private static void PrintView(ClusterView view) =>
        Console.Out.WriteLine($"VIEW {Stopwatch.GetTimestamp()} {view.Version} {view.ActiveSilos.Count} {Members(view)}");

    public static string Members(ClusterView view) => string.Join(',', view.Members.Select(m => $"{m.Silo}={m.Status}"));
}

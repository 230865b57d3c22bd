using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests;

/// <summary>
/// The HTTP listener's backlog: connections made while the silo cannot accept (paused, busy, restarting) are completed
/// and held by the kernel, so a fleet that reconnects at once is served when the silo runs, not left retrying its SYNs.
/// </summary>
public sealed class ListenBacklogTests
{
    [Fact]
    public async Task A_thousand_connections_made_while_the_silo_is_paused_are_all_held_and_served_when_it_runs_again()
    {
        // The kernel caps any backlog at somaxconn; a machine set lower can only show that much.
        var count = Math.Min(1000, int.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn").Trim()) - 1);
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        var endpoint = new IPEndPoint(IPAddress.Loopback, silo.Port);
        var sockets = Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray();
        try
        {
            Posix.Kill(silo.Pid, Posix.SIGSTOP);
            try
            {
                var connects = sockets.Select(s => s.ConnectAsync(endpoint)).ToArray();
                // Kestrel's default backlog (512) would leave the rest waiting for SYN retries until the silo accepts again.
                var all = Task.WhenAll(connects);
                if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(20))) != all)
                    Assert.Fail($"{connects.Count(c => c.IsCompletedSuccessfully)} of {count} connections completed while the silo was paused");
                await all;
            }
            finally
            {
                Posix.Kill(silo.Pid, Posix.SIGCONT);
            }

            var request = Encoding.ASCII.GetBytes($"GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1:{silo.Port}\r\nConnection: close\r\n\r\n");
            var answers = await Task.WhenAll(sockets.Select(async s =>
            {
                await s.SendAsync(request);
                var buffer = new byte[64];
                var read = 0;
                while (read < 12)
                {
                    var n = await s.ReceiveAsync(buffer.AsMemory(read));
                    if (n == 0) break;
                    read += n;
                }
                return Encoding.ASCII.GetString(buffer, 0, read);
            })).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(answers, a => Assert.StartsWith("HTTP/1.1 200", a));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
    }

    [Fact]
    public async Task A_backlog_below_one_stops_the_silo_naming_the_setting()
    {
        using var dir = new TempDir();
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--data-dir", dir.Path, "--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--Platform:ListenBacklog", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("Platform:ListenBacklog is 0; expected a number of connections of at least 1", stderr);
    }
}

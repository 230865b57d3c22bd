using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// The build-notify pattern as scripts use it: many curl workers long-polling one key and re-watching from
/// modifiedIndex+1, while another process writes (curl-watch-loop.sh). Run against etcd and against the subject.
/// </summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class CurlWatchLoopTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    private const int Workers = 20;
    private const int Changes = 30;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Etcd", "curl-watch-loop.sh");

    [Theory]
    [InlineData("reference")]
    [InlineData("subject")]
    public async Task Every_curl_worker_sees_every_change_once_and_in_order(string which)
    {
        var server = which == "reference" ? fixture.Reference : fixture.Subject;
        const string key = "compat/curl-loop/build_notify";
        await using var tap = new WatchTap(server.Url);
        var workers = Enumerable.Range(0, Workers)
            .Select(_ => CapturedProcess.Start("bash", [Script, "watch", tap.Url.ToString().TrimEnd('/'), key, $"{Changes}"]))
            .ToList();
        try
        {
            // The workers' first watch has no waitIndex (as in the classic loop): write only once all are registered.
            var anyExited = Task.WhenAny(workers.Select(w => w.Exited));
            if (!await tap.WaitForWatchesAsync(Workers, Timeout, anyExited))
            {
                var ended = workers.FirstOrDefault(w => w.Exited.IsCompleted);
                throw new XunitException($"{server.Name}: {tap.Registered} of {Workers} curl watches were answered with headers"
                    + (ended is null ? $" within {Timeout.TotalSeconds} s" : $" when a worker ended: {await ended.WaitForExitAsync(Timeout)}"));
            }

            await using var writer = CapturedProcess.Start("bash", [Script, "put", server.Url.ToString().TrimEnd('/'), key, $"{Changes}"]);
            var written = await writer.WaitForExitAsync(Timeout);
            Assert.True(written.ExitCode == 0, $"{server.Name}: writer failed: {written}");
            var expected = Lines(written.StdOut);
            Assert.Equal(Changes, expected.Count);
            Assert.Equal(Enumerable.Range(1, Changes).Select(i => $"v{i}"), expected.Select(l => l.Split(' ')[1]));

            var results = await Task.WhenAll(workers.Select(w => w.WaitForExitAsync(Timeout)));
            for (var i = 0; i < results.Length; i++)
            {
                Assert.True(results[i].ExitCode == 0, $"{server.Name}: worker {i} failed: {results[i]}");
                Assert.True(expected.SequenceEqual(Lines(results[i].StdOut)),
                    $"{server.Name}: worker {i} saw\n{results[i].StdOut}\nbut the writer made\n{written.StdOut}");
            }
            output.WriteLine($"{server.Name}: {Workers} workers each saw all {Changes} changes in order ({tap.Registered} watch requests)");
        }
        finally
        {
            foreach (var w in workers) await w.DisposeAsync();
        }
    }

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}

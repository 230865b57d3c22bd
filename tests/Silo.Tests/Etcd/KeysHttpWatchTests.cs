using System.Runtime.CompilerServices;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// Long-poll watches over plain HTTP (as curl scripts use them), against etcd and the subject side by side: the
/// watch goes through a <see cref="WatchTap"/>, the triggering writes start once both servers registered it, and
/// the two answers must match (<see cref="KeysAnswer"/>). Requests are "METHOD path [form]" under the test's prefix;
/// <c>@N</c> is an index relative to the store's index before the test.
/// </summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class KeysHttpWatchTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public Task Deleting_a_directory_wakes_a_watcher_of_a_key_below_it() =>
        CompareWatchAsync(["PUT /d/x value=one"], "/d/x?wait=true", ["DELETE /d?recursive=true"]);

    [Fact]
    public Task Recursive_watch_wakes_for_a_change_deep_below() =>
        CompareWatchAsync(["PUT /d dir=true"], "/d?wait=true&recursive=true", ["PUT /d/y/z value=deep"]);

    [Fact]
    public Task Watch_of_a_directory_without_recursive_wakes_only_when_the_directory_itself_changes() =>
        CompareWatchAsync(["PUT /d dir=true"], "/d?wait=true", ["PUT /d/y value=child", "PUT /d dir=true&prevExist=true&ttl=3600"]);

    [Fact]
    public Task Refresh_does_not_wake_watchers() =>
        CompareWatchAsync(["PUT /r value=one&ttl=3600"], "/r?wait=true", ["PUT /r refresh=true&ttl=3600&prevExist=true", "PUT /r value=two"]);

    [Fact]
    public Task Wait_index_in_history_answers_at_once_with_the_first_event_at_or_after_it() =>
        CompareWatchAsync(["PUT /h value=one", "PUT /other value=x", "PUT /h value=two", "PUT /h value=three"], "/h?wait=true&waitIndex=@2", []);

    [Fact]
    public Task In_order_create_wakes_a_watcher_of_its_directory_with_recursive() =>
        CompareWatchAsync(["PUT /q dir=true"], "/q?wait=true&recursive=true", ["POST /q value=job"]);

    private async Task CompareWatchAsync(string[] setup, string watch, string[] triggers, [CallerMemberName] string test = "")
    {
        var prefix = $"/compat/http-watch/{test}";
        var servers = fixture.Servers;
        var bases = await Task.WhenAll(servers.Select(s => s.CurrentIndexAsync()));
        foreach (var request in setup) await SendAsync(request, prefix, bases, expectSuccess: true);

        var taps = servers.Select(s => new WatchTap(s.Url)).ToArray();
        try
        {
            var watches = taps.Select((t, i) => RawHttp.SendAsync(t.Url, "GET", $"/v2/keys{prefix}{OutputNormalizer.Absolute(watch, bases[i])}")).ToArray();
            for (var i = 0; i < servers.Count; i++)
            {
                if (!await taps[i].WaitForWatchesAsync(1, Timeout, watches[i]) && !watches[i].IsCompleted)
                    throw new XunitException($"{servers[i].Name} did not answer GET {watch} with headers within {Timeout.TotalSeconds} s");
            }
            foreach (var request in triggers) await SendAsync(request, prefix, bases, expectSuccess: false);
            var answers = new RawResponse[servers.Count];
            for (var i = 0; i < servers.Count; i++)
            {
                try
                {
                    answers[i] = await watches[i];
                }
                catch (Exception e) when (e is OperationCanceledException or IOException)
                {
                    throw new XunitException($"{servers[i].Name} registered GET {watch} (headers came back) but did not answer it after "
                        + $"{string.Join(", ", triggers)}: {e.GetType().Name} {e.Message}\n{servers[i].LogTail()}");
                }
            }
            output.WriteLine($"GET {watch}\n  {servers[0].Name}: {answers[0]}\n  {servers[1].Name}: {answers[1]}");
            KeysAnswer.AssertSame($"GET {watch}", answers, bases);
        }
        finally
        {
            foreach (var tap in taps) await tap.DisposeAsync();
        }
    }

    /// <summary>Sends "METHOD path [form]" to both servers and checks they answer alike.</summary>
    private async Task SendAsync(string request, string prefix, long[] bases, bool expectSuccess)
    {
        var parts = request.Split(' ', 3);
        var servers = fixture.Servers;
        var answers = await Task.WhenAll(servers.Select((s, i) =>
            RawHttp.SendAsync(s.Url, parts[0], $"/v2/keys{prefix}{OutputNormalizer.Absolute(parts[1], bases[i])}", parts.Length > 2 ? parts[2] : null)));
        output.WriteLine($"{request}\n  {servers[0].Name}: {answers[0]}\n  {servers[1].Name}: {answers[1]}");
        if (expectSuccess && answers[0].Status >= 300) throw new XunitException($"set-up request {request} failed on etcd: {answers[0]}");
        KeysAnswer.AssertSame(request, answers, bases);
    }
}

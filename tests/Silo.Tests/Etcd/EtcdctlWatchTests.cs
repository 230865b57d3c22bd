using Xunit.Abstractions;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// etcdctl watch and exec-watch against etcd and the subject side by side. Each watcher is started through a
/// <see cref="WatchTap"/> and the writes begin only once both servers answered it with headers (registered).
/// </summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class EtcdctlWatchTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    // One line per event, written at once: exec-watch runs its commands concurrently.
    private const string PrintEvent = "sh -c 'env | grep ^ETCD_WATCH_ | sort | paste -sd, -'";

    [Fact]
    public async Task Watch_prints_the_next_change_and_exits()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/w zero");
        var watch = await c.Watch("watch {k}/w");
        await c.Run("set {k}/w one");
        await c.Exited(watch, exit: 0, stdout: "one");

        var extended = await c.Watch("-o extended watch {k}/w");
        await c.Run("set {k}/w two");
        await c.Exited(extended, stdout: "Key: {k}/w\nCreated-Index: @3\nModified-Index: @3\nPrevNode.Value: one\nTTL: 0\nIndex: @2\n\ntwo");
    }

    [Fact]
    public async Task Watch_forever_prints_every_change_until_interrupted()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        var watch = await c.Watch("-o json watch --forever {k}/w");
        await c.Run("set {k}/w one");
        await c.Run("set {k}/w two");
        await c.Run("rm {k}/w");
        await c.Run("mk {k}/w three");
        await c.Interrupted(watch, lines: 4);
    }

    [Fact]
    public async Task Watch_after_index_replays_history()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/h one");
        await c.Run("set {k}/h two");
        await c.Run("set {k}/other x");
        await c.Run("set {k}/h three");
        // etcdctl asks for waitIndex = after-index + 1.
        await c.Exited(await c.Watch("watch --after-index @1 {k}/h"), stdout: "two");
        await c.Exited(await c.Watch("-o extended watch --after-index @2 {k}/h"));
        await c.Exited(await c.Watch("-o json watch --after-index @0 {k}/h"));
    }

    [Fact]
    public async Task Watch_recursive_reports_action_and_key_of_changes_below()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mkdir {k}/r");
        var watch = await c.Watch("watch --recursive --forever {k}/r");
        await c.Run("set {k}/r/a one");
        await c.Run("mkdir {k}/r/sub");
        await c.Run("set {k}/r/sub/b two");
        await c.Run("rm {k}/r/a");
        await c.Run("update {k}/r/sub/b three");
        await c.Interrupted(watch, lines: 8, stdout:
            "[set] {k}/r/a\none\n[set] {k}/r/sub/b\ntwo\n[delete] {k}/r/a\nPrevNode.Value: one\n[update] {k}/r/sub/b\nthree");
    }

    [Fact]
    public async Task Recursive_watch_does_not_wake_for_hidden_keys()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        var watch = await c.Watch("watch --recursive {k}/r");
        await c.Run("set {k}/r/_hidden secret");
        await c.Run("set {k}/r/shown one");
        await c.Exited(watch, stdout: "[set] {k}/r/shown\none");
    }

    [Fact]
    public async Task Watch_sees_a_ttl_expire()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/e one --ttl 1");
        // From history, so it does not matter whether the key expired before the watch began.
        await c.Exited(await c.Watch("-o json watch --after-index @1 {k}/e"));
        await c.Run("get {k}/e", exit: 4, stderr: "Error:  100: Key not found ({k}/e) [@2]");
    }

    [Fact]
    public async Task Watch_after_an_index_cleared_by_more_than_1000_events_fails_with_401()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/old one");
        await c.Load(1005);
        await c.Run("watch --after-index @0 {k}/old", exit: 4,
            stderr: "Error:  401: The event in requested index is outdated and cleared (the requested history has been cleared [@7/@1]) [@1006]");
        await c.Exited(await c.Watch("watch --after-index @6 {k}/load/k5"));
    }

    [Fact]
    public async Task Exec_watch_runs_the_command_with_the_event_in_ETCD_WATCH_variables()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        var watch = await c.Watch($"exec-watch --recursive {{k}}/x -- {PrintEvent}");
        await c.Run("set {k}/x one");
        await c.Run("set {k}/x two");
        await c.Run("rm {k}/x");
        await c.Interrupted(watch, lines: 3, unordered: true, stdout:
            "ETCD_WATCH_ACTION=delete,ETCD_WATCH_KEY={k}/x,ETCD_WATCH_MODIFIED_INDEX=@3,ETCD_WATCH_VALUE=\n"
            + "ETCD_WATCH_ACTION=set,ETCD_WATCH_KEY={k}/x,ETCD_WATCH_MODIFIED_INDEX=@1,ETCD_WATCH_VALUE=one\n"
            + "ETCD_WATCH_ACTION=set,ETCD_WATCH_KEY={k}/x,ETCD_WATCH_MODIFIED_INDEX=@2,ETCD_WATCH_VALUE=two");
    }

    [Fact]
    public async Task Exec_watch_after_index_and_recursive_skips_directories()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/d/a one");
        await c.Run("set {k}/d/a two");
        await c.Run("mkdir {k}/d/sub");
        await c.Run("set {k}/d/sub/b three");
        // Replays @2 (after-index + 1) onwards; the directory made at @3 goes to stderr, not to the command.
        var watch = await c.Watch($"exec-watch --after-index @1 --recursive {{k}}/d -- {PrintEvent}");
        await c.Run("rm {k}/d/a");
        await c.Interrupted(watch, lines: 3, unordered: true, stdout:
            "ETCD_WATCH_ACTION=delete,ETCD_WATCH_KEY={k}/d/a,ETCD_WATCH_MODIFIED_INDEX=@5,ETCD_WATCH_VALUE=\n"
            + "ETCD_WATCH_ACTION=set,ETCD_WATCH_KEY={k}/d/a,ETCD_WATCH_MODIFIED_INDEX=@2,ETCD_WATCH_VALUE=two\n"
            + "ETCD_WATCH_ACTION=set,ETCD_WATCH_KEY={k}/d/sub/b,ETCD_WATCH_MODIFIED_INDEX=@4,ETCD_WATCH_VALUE=three",
            stderr: "Ignored dir {k}/d/sub change");
    }
}

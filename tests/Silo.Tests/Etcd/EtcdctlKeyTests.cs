using Xunit.Abstractions;

namespace Platform.Silo.Tests.Etcd;

/// <summary>etcdctl's key commands, run against etcd and the subject side by side (see <see cref="EtcdctlComparison"/>).</summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class EtcdctlKeyTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Set_and_get_print_the_value_and_a_missing_key_is_error_100()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/a one", exit: 0, stdout: "one");
        await c.Run("get {k}/a", stdout: "one");
        await c.Run("set {k}/a two", stdout: "two");
        await c.Run("get --quorum {k}/a", stdout: "two");
        await c.Run("get {k}/missing", exit: 4, stdout: "", stderr: "Error:  100: Key not found ({k}/missing) [@2]");
        await c.Run("get {k}/a/below", exit: 4);
    }

    [Fact]
    public async Task Set_with_ttl_shows_ttl_and_expiration_until_a_plain_update_clears_them()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/t one --ttl 3600", stdout: "one");
        await c.Run("-o extended get {k}/t");
        await c.Run("-o json get {k}/t");
        await c.Run("update {k}/t two", stdout: "two");
        await c.Run("-o json get {k}/t");
        await c.Run("-o json set {k}/t three --ttl 7200");
    }

    [Fact]
    public async Task Set_with_swap_with_value_or_index_compares_before_writing()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/s one");
        await c.Run("set {k}/s two --swap-with-value one", stdout: "two");
        await c.Run("set {k}/s three --swap-with-value one", exit: 4, stderr: "Error:  101: Compare failed ([one != two]) [@2]");
        await c.Run("set {k}/s three --swap-with-index @2", stdout: "three");
        await c.Run("set {k}/s four --swap-with-index @2", exit: 4, stderr: "Error:  101: Compare failed ([@2 != @3]) [@3]");
        await c.Run("-o json set {k}/s five --swap-with-value three --swap-with-index @3");
        await c.Run("set {k}/s six --swap-with-value three --swap-with-index @4", exit: 4);
        await c.Run("set {k}/missing x --swap-with-value one", exit: 4);
        await c.Run("set {k}/missing x --swap-with-index @1", exit: 4);
    }

    [Fact]
    public async Task Get_of_a_directory_says_so_and_sort_and_quorum_read_its_keys()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mkdir {k}/d");
        await c.Run("set {k}/d/b bee");
        await c.Run("set {k}/d/a ay");
        await c.Run("get {k}/d", exit: 1);
        await c.Run("get --sort {k}/d", exit: 1);
        await c.Run("-o json get --sort {k}/d", exit: 1);
        await c.Run("get --sort --quorum {k}/d/a", stdout: "ay");
        await c.Run("-o extended get --quorum {k}/d/b");
    }

    [Fact]
    public async Task Mk_creates_only_a_new_key_and_in_order_names_keys_by_index()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mk {k}/m one", stdout: "one");
        await c.Run("mk {k}/m two", exit: 4, stderr: "Error:  105: Key already exists ({k}/m) [@1]");
        await c.Run("-o extended mk {k}/t one --ttl 3600");
        await c.Run("mk --in-order {k}/q first", stdout: "first");
        await c.Run("mk --in-order {k}/q second", stdout: "second");
        await c.Run("-o json mk --in-order {k}/q third");
        await c.Run("ls --sort {k}/q", stdout: "{k}/q/<@3>\n{k}/q/<@4>\n{k}/q/<@5>");
        await c.Run("get {k}/q/<@4>", stdout: "second");
        await c.Run("mk --in-order {k}/m fourth", exit: 4);
    }

    [Fact]
    public async Task Mkdir_setdir_and_updatedir_create_and_refresh_directories()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mkdir {k}/d", stdout: "");
        await c.Run("mkdir {k}/d", exit: 4, stderr: "Error:  105: Key already exists ({k}/d) [@1]");
        await c.Run("-o json mkdir {k}/t --ttl 3600");
        await c.Run("setdir {k}/d", exit: 4);
        await c.Run("-o json setdir {k}/n");
        await c.Run("set {k}/f value");
        await c.Run("setdir {k}/f");
        await c.Run("-o json updatedir {k}/d --ttl 3600");
        await c.Run("-o extended ls {k}/d");
        await c.Run("updatedir {k}/missing --ttl 3600", exit: 4);
        await c.Run("updatedir {k}/f --ttl 3600");
        await c.Run("set {k}/g value");
        await c.Run("mkdir {k}/g/sub", exit: 4);
        await c.Run("set {k}/d value", exit: 4);
    }

    [Fact]
    public async Task Update_changes_only_an_existing_key()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        // etcd names the first missing path component, here the test's own prefix.
        await c.Run("update {k}/u one", exit: 4, stderr: "Error:  100: Key not found ({k}) [@0]");
        await c.Run("set {k}/u one");
        await c.Run("update {k}/u two", stdout: "two");
        await c.Run("-o json update {k}/u three");
        await c.Run("-o extended update {k}/u four --ttl 3600");
        await c.Run("mkdir {k}/d");
        await c.Run("update {k}/d x", exit: 4);
    }

    [Fact]
    public async Task Rm_deletes_keys_and_directories_and_compares_value_or_index()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("set {k}/a one");
        await c.Run("rm {k}/a", stdout: "PrevNode.Value: one");
        await c.Run("rm {k}/a", exit: 4, stderr: "Error:  100: Key not found ({k}/a) [@2]");
        await c.Run("mkdir {k}/d");
        await c.Run("rm {k}/d", exit: 4, stderr: "Error:  102: Not a file ({k}/d) [@3]");
        await c.Run("-o json rm --dir {k}/d");
        await c.Run("set {k}/d/x one");
        await c.Run("rm --dir {k}/d", exit: 4, stderr: "Error:  108: Directory not empty ({k}/d) [@5]");
        await c.Run("-o extended rm --recursive {k}/d");
        await c.Run("rm --recursive {k}/d", exit: 4);
        await c.Run("set {k}/c one");
        await c.Run("rm {k}/c --with-value two", exit: 4, stderr: "Error:  101: Compare failed ([two != one]) [@7]");
        await c.Run("-o json rm {k}/c --with-value one");
        await c.Run("set {k}/c one");
        await c.Run("rm {k}/c --with-index @8", exit: 4, stderr: "Error:  101: Compare failed ([@8 != @9]) [@9]");
        await c.Run("-o json rm {k}/c --with-index @9");
        await c.Run("rm {k}/c --with-value one", exit: 4);
    }

    [Fact]
    public async Task Rmdir_removes_only_an_empty_directory()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mkdir {k}/d");
        await c.Run("rmdir {k}/d", stdout: "");
        await c.Run("rmdir {k}/d", exit: 4, stderr: "Error:  100: Key not found ({k}/d) [@2]");
        await c.Run("set {k}/d/x one");
        await c.Run("rmdir {k}/d", exit: 4, stderr: "Error:  108: Directory not empty ({k}/d) [@3]");
        await c.Run("rmdir {k}/d/x");
        await c.Run("-o json rmdir {k}/d");
    }

    [Fact]
    public async Task Ls_lists_sorted_recursive_and_marks_directories_but_hides_underscore_keys()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("mkdir {k}/d");
        await c.Run("set {k}/d/b bee");
        await c.Run("set {k}/d/a ay");
        await c.Run("set {k}/d/c/x ex");
        await c.Run("set {k}/d/_hidden secret");
        await c.Run("set {k}/d/c/_hidden secret");
        await c.Run("ls --sort {k}/d", stdout: "{k}/d/a\n{k}/d/b\n{k}/d/c");
        await c.Run("ls --sort -p {k}/d", stdout: "{k}/d/a\n{k}/d/b\n{k}/d/c/");
        await c.Run("ls --sort --recursive {k}/d", stdout: "{k}/d/a\n{k}/d/b\n{k}/d/c\n{k}/d/c/x");
        await c.Run("ls --sort --recursive -p {k}/d", stdout: "{k}/d/a\n{k}/d/b\n{k}/d/c/\n{k}/d/c/x");
        await c.Run("ls {k}/d", unordered: true);
        await c.Run("ls {k}/d/a", stdout: "{k}/d/a");
        await c.Run("get {k}/d/_hidden", stdout: "secret");
        await c.Run("-o json ls --sort --recursive {k}/d");
        await c.Run("-o extended ls --sort {k}/d");
        await c.Run("ls {k}/missing", exit: 4, stderr: "Error:  100: Key not found ({k}/missing) [@6]");
    }

    [Theory]
    [InlineData("simple", false)]
    [InlineData("extended", false)]
    [InlineData("json", false)]
    [InlineData("json", true)]
    public async Task Every_command_prints_alike_in_each_output_mode(string mode, bool noSync)
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output, $"/{mode}{(noSync ? "-nosync" : "")}");
        var o = $"-o {mode}";
        await c.Run($"{o} set {{k}}/a one", noSync: noSync);
        await c.Run($"{o} get {{k}}/a", noSync: noSync);
        await c.Run($"{o} set {{k}}/a two --swap-with-value one", noSync: noSync);
        await c.Run($"{o} mk {{k}}/b one", noSync: noSync);
        await c.Run($"{o} mk {{k}}/b one", exit: 4, noSync: noSync);
        await c.Run($"{o} update {{k}}/b two", noSync: noSync);
        await c.Run($"{o} mkdir {{k}}/d", noSync: noSync);
        await c.Run($"{o} mk --in-order {{k}}/d one", noSync: noSync);
        await c.Run($"{o} ls --sort --recursive {{k}}", noSync: noSync);
        await c.Run($"{o} rm {{k}}/a --with-index @2", noSync: noSync);
        await c.Run($"{o} rm --recursive {{k}}/d", noSync: noSync);
        await c.Run($"{o} get {{k}}/a", exit: 4, noSync: noSync);
        await c.Run($"{o} rmdir {{k}}/b", noSync: noSync);
    }
}

using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Platform.Silo.Tests.Consul;

/// <summary>Consul's <c>/v1/kv</c> through a real silo process: reads, listings, writes, deletes, folders, bad input and blocking queries.</summary>
[Collection(ConsulCollection.Name)]
public sealed class ConsulKvTests(ConsulSilo kv)
{
    private static readonly TimeSpan s_wake = TimeSpan.FromSeconds(15);

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Value(JsonElement entry) => Encoding.UTF8.GetString(Convert.FromBase64String(entry.GetProperty("Value").GetString()!));

    private static ulong ModifyIndex(JsonElement entry) => entry.GetProperty("ModifyIndex").GetUInt64();

    private static async Task<KvReply> Ok(Task<KvReply> write)
    {
        var reply = await write;
        Assert.True(reply.Status == HttpStatusCode.OK && reply.Body == "true", reply.ToString());
        return reply;
    }

    /// <summary>
    /// Asserts that <paramref name="queries"/> blocking queries wait on the silo's watch hub and <paramref name="query"/>
    /// has not answered. A query's watch leaves the hub when a change wakes it (before that change's write is answered),
    /// and never comes back: so after a write, the count shows the write woke none of them.
    /// </summary>
    private async Task StillBlocked(Task<KvReply> query, int queries = 1)
    {
        await WaitingOrAnswered(query, queries);
        if (query.IsCompleted) Assert.Fail($"the blocking query answered early: {await query}");
    }

    /// <summary>Waits until <paramref name="queries"/> blocking queries wait on the silo's watch hub or <paramref name="query"/> has answered (whether it answered in time is the caller's to check).</summary>
    private async Task WaitingOrAnswered(Task<KvReply> query, int queries = 1)
    {
        var deadline = Stopwatch.StartNew();
        while (!query.IsCompleted && await kv.KeyWatches() < queries)
        {
            Assert.True(deadline.Elapsed < s_wake, $"fewer than {queries} blocking queries are waiting after {s_wake}");
            await Task.Delay(20);
        }
    }

    /// <summary>Writes <paramref name="key"/> under a waiting blocking query and asserts that the query answers with that write's index.</summary>
    private async Task<KvReply> WriteWakes(Task<KvReply> query, string key, string value)
    {
        var change = await Ok(kv.Put(key, value));
        var woke = await query.WaitAsync(s_wake);
        Assert.Equal(HttpStatusCode.OK, woke.Status);
        Assert.Equal(change.Index, woke.Index);
        return woke;
    }

    [Fact]
    public async Task Put_and_get_an_entry_with_flags_indexes_and_the_value_in_base64()
    {
        var put = await Ok(kv.Put("entry/greeting?flags=42", "hello, wörld <&>"));

        var get = await kv.Get("entry/greeting");
        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.Equal(
            $$"""[{"CreateIndex":{{put.Index}},"ModifyIndex":{{put.Index}},"LockIndex":0,"Key":"entry/greeting","Flags":42,"Value":"{{Base64("hello, wörld <&>")}}","Session":""}]""",
            get.Body);
        Assert.Equal(put.Index, get.Index);
        Assert.Equal("application/json", get.ContentType);
        Assert.Equal("true", get.Headers["X-Consul-KnownLeader"]);
        Assert.Equal("0", get.Headers["X-Consul-LastContact"]);

        // A write without flags sets them back to 0 and moves the modify index.
        var again = await Ok(kv.Put("entry/greeting", "second"));
        var entry = (await kv.Get("entry/greeting")).Entry;
        Assert.Equal(0ul, entry.GetProperty("Flags").GetUInt64());
        Assert.Equal(again.Index, ModifyIndex(entry));
        Assert.Equal("second", Value(entry));

        var missing = await kv.Get("entry/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("", missing.Body);
        Assert.Equal(await kv.KeyspaceIndex(), missing.Index);

        // An empty value reads back as null, as in Consul; %2F in the path is a slash (clients may encode keys whole).
        await Ok(kv.Put("entry%2Fempty"));
        Assert.Equal(JsonValueKind.Null, (await kv.Get("entry/empty")).Entry.GetProperty("Value").ValueKind);
    }

    [Fact]
    public async Task Recurse_lists_every_key_starting_with_the_string_sorted_bytewise_hidden_keys_included()
    {
        KvReply last = null!;
        foreach (var key in new[] { "rec/a/bd/c", "rec/a/b", "rec/a/bc", "rec/a/b-x", "rec/a/c", "rec/ab", "rec/a/bd/_hidden" })
            last = await Ok(kv.Put(key, "value of " + key));

        var listed = await kv.Get("rec/a/b?recurse");
        Assert.Equal(HttpStatusCode.OK, listed.Status);
        // A string prefix, not a path: "rec/a/b" takes rec/a/bc and rec/a/bd/..., and the folder rec/a/bd/ is not listed.
        Assert.Equal(["rec/a/b", "rec/a/b-x", "rec/a/bc", "rec/a/bd/_hidden", "rec/a/bd/c"], listed.EntryKeys);
        Assert.Equal(last.Index, listed.Index);
        Assert.All(listed.Json.EnumerateArray(), e => Assert.Equal("value of " + e.GetProperty("Key").GetString(), Value(e)));

        // The directory rec/a/bd/ that writing below it made is not a key; once put, the folder is listed first.
        Assert.Equal(["rec/a/bd/_hidden", "rec/a/bd/c"], (await kv.Get("rec/a/bd/?recurse")).EntryKeys);
        await Ok(kv.Put("rec/a/bd/"));
        Assert.Equal(["rec/a/bd/", "rec/a/bd/_hidden", "rec/a/bd/c"], (await kv.Get("rec/a/bd/?recurse")).EntryKeys);
        // rec/a/b is a key, not a folder: nothing starts with "rec/a/b/".
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("rec/a/b/?recurse")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("rec/zzz?recurse")).Status);
    }

    [Fact]
    public async Task Keys_lists_names_and_a_separator_cuts_each_after_the_prefix()
    {
        KvReply last = null!;
        foreach (var key in new[] { "names/a", "names/_h", "names/b/x", "names/c/d/e", "names/b/y" })
            last = await Ok(kv.Put(key, "v"));

        Assert.Equal(["names/_h", "names/a", "names/b/x", "names/b/y", "names/c/d/e"], (await kv.Get("names/?keys")).Keys);
        var cut = await kv.Get("names/?keys&separator=/");
        Assert.Equal(["names/_h", "names/a", "names/b/", "names/c/"], cut.Keys);
        Assert.Equal(last.Index, cut.Index);
        var under = await kv.Get("names/b?keys");
        Assert.Equal(["names/b/x", "names/b/y"], under.Keys);
        Assert.Equal(last.Index, under.Index);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("names/nothing?keys")).Status);
    }

    [Fact]
    public async Task Raw_answers_the_value_alone_as_plain_text()
    {
        var put = await Ok(kv.Put("raw/v", "plain text ✓"));
        var raw = await kv.Get("raw/v?raw");
        Assert.Equal(HttpStatusCode.OK, raw.Status);
        Assert.Equal("plain text ✓", raw.Body);
        Assert.Equal("text/plain", raw.ContentType);
        Assert.Equal("nosniff", raw.Headers["X-Content-Type-Options"]);
        Assert.Equal(put.Index, raw.Index);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("raw/missing?raw")).Status);
    }

    [Fact]
    public async Task Cas_zero_creates_only_a_new_key_and_cas_n_writes_only_at_that_modify_index()
    {
        var created = await Ok(kv.Put("cas/k?cas=0", "first"));
        var again = await kv.Put("cas/k?cas=0", "second");
        Assert.Equal("false", again.Body);
        Assert.Equal("first", Value((await kv.Get("cas/k")).Entry));

        Assert.Equal("false", (await kv.Put($"cas/k?cas={created.Index + 1000}", "stale")).Body);
        var swapped = await Ok(kv.Put($"cas/k?cas={created.Index}&flags=5", "third"));
        var entry = (await kv.Get("cas/k")).Entry;
        Assert.Equal("third", Value(entry));
        Assert.Equal(5ul, entry.GetProperty("Flags").GetUInt64());
        Assert.Equal(swapped.Index, ModifyIndex(entry));
        Assert.Equal(created.Index, entry.GetProperty("CreateIndex").GetUInt64());

        // A compare against a key that is not there fails and creates nothing.
        Assert.Equal("false", (await kv.Put($"cas/absent?cas={swapped.Index}", "x")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("cas/absent")).Status);
    }

    [Fact]
    public async Task Delete_takes_a_key_a_string_prefix_or_a_key_at_its_modify_index_and_a_missing_key_is_true()
    {
        await Ok(kv.Put("del/app", "1"));
        await Ok(kv.Put("del/apple/x", "2"));
        var kept = await Ok(kv.Put("del/b", "3"));

        var recursive = await Ok(kv.Delete("del/ap?recurse"));
        Assert.Equal(await kv.KeyspaceIndex(), recursive.Index);
        Assert.Equal(["del/b"], (await kv.Get("del/?recurse")).EntryKeys.Where(k => !k.EndsWith('/')));

        Assert.Equal("false", (await kv.Delete($"del/b?cas={kept.Index + 1000}")).Body);
        Assert.Equal("false", (await kv.Delete("del/b?cas=0")).Body);
        Assert.Equal(HttpStatusCode.OK, (await kv.Get("del/b")).Status);
        await Ok(kv.Delete($"del/b?cas={kept.Index}"));
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("del/b")).Status);

        await Ok(kv.Delete("del/never"));
        await Ok(kv.Delete("del/never?cas=7"));
        await Ok(kv.Put("del/plain", "p"));
        await Ok(kv.Delete("del/plain"));
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("del/plain")).Status);
    }

    [Fact]
    public async Task A_directory_made_by_writing_below_it_is_no_key_until_the_folder_itself_is_put()
    {
        var config = await Ok(kv.Put("implicit/app/config", "c"));

        // Consul lists and reads only what was put: not "implicit/app/" nor "implicit/".
        Assert.Equal(["implicit/app/config"], (await kv.Get("implicit/app/?recurse")).EntryKeys);
        Assert.Equal(["implicit/app/config"], (await kv.Get("implicit/?recurse")).EntryKeys);
        Assert.Equal(["implicit/app/config"], (await kv.Get("implicit/?keys")).Keys);
        Assert.Equal(["implicit/app/"], (await kv.Get("implicit/?keys&separator=/")).Keys);
        var folder = await kv.Get("implicit/app/");
        Assert.Equal(HttpStatusCode.NotFound, folder.Status);
        Assert.Equal(config.Index, (await kv.Get("implicit/app/?recurse")).Index);

        // Putting the folder makes it a key (a write of its own); it keeps the directory's indexes. Putting it again changes nothing.
        var put = await Ok(kv.Put("implicit/app/"));
        Assert.True(put.Index > config.Index);
        Assert.Equal(put.Index, await kv.KeyspaceIndex());
        var entry = (await kv.Get("implicit/app/")).Entry;
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("Value").ValueKind);
        Assert.Equal(config.Index, entry.GetProperty("CreateIndex").GetUInt64());
        Assert.Equal(config.Index, ModifyIndex(entry));
        Assert.Equal(["implicit/app/", "implicit/app/config"], (await kv.Get("implicit/?recurse")).EntryKeys);
        Assert.Equal(["implicit/app/", "implicit/app/config"], (await kv.Get("implicit/?keys")).Keys);
        await Ok(kv.Put("implicit/app/"));
        Assert.Equal(put.Index, await kv.KeyspaceIndex());

        // Once the only key below it is deleted, the directory etcd keeps is nothing to Consul.
        await Ok(kv.Put("implicit/tmp/x", "x"));
        await Ok(kv.Delete("implicit/tmp/x"));
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("implicit/tmp/?recurse")).Status);
        Assert.Equal(["implicit/app/"], (await kv.Get("implicit/?keys&separator=/")).Keys);
    }

    [Fact]
    public async Task Folders_are_directories_shared_with_keys_in_one_tree()
    {
        var folder = await Ok(kv.Put("fold/dir/"));
        var entry = (await kv.Get("fold/dir/")).Entry;
        Assert.Equal("fold/dir/", entry.GetProperty("Key").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("Value").ValueKind);
        Assert.Equal(folder.Index, entry.GetProperty("CreateIndex").GetUInt64());
        // Creating it again succeeds and changes nothing; cas=0 does not.
        await Ok(kv.Put("fold/dir/"));
        Assert.Equal(folder.Index, ModifyIndex((await kv.Get("fold/dir/")).Entry));
        Assert.Equal("false", (await kv.Put("fold/dir/?cas=0")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("fold/dir")).Status);

        await Ok(kv.Put("fold/dir/k", "inside"));
        var overFolder = await kv.Put("fold/dir", "x");
        Assert.Equal(HttpStatusCode.Conflict, overFolder.Status);
        Assert.Contains("\"fold/dir\"", overFolder.Body);
        Assert.Contains("\"fold/dir/\" is a folder", overFolder.Body);

        await Ok(kv.Put("fold/v", "value"));
        var underValue = await kv.Put("fold/v/k", "x");
        Assert.Equal(HttpStatusCode.Conflict, underValue.Status);
        Assert.Contains("\"fold/v/k\"", underValue.Body);
        Assert.Contains("\"fold/v\" holds a value", underValue.Body);
        Assert.Equal(HttpStatusCode.Conflict, (await kv.Put("fold/v/")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await kv.Put("fold/dir?cas=0", "x")).Status);

        // A folder's delete never takes a key of that name, and takes everything in the folder.
        await Ok(kv.Delete("fold/v/"));
        Assert.Equal("value", Value((await kv.Get("fold/v")).Entry));
        await Ok(kv.Delete("fold/dir/"));
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("fold/dir/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("fold/dir/k")).Status);
    }

    [Fact]
    public async Task Bad_input_answers_its_documented_status_with_a_message_and_changes_nothing()
    {
        var original = await Ok(kv.Put("bad/k?flags=3", "kept"));
        var before = await kv.KeyspaceIndex();
        var tooLarge = new byte[524_289];
        Array.Fill(tooLarge, (byte)'x');
        var cases = new (HttpMethod Method, string Path, HttpContent? Body, HttpStatusCode Status, string Message)[]
        {
            (HttpMethod.Put, "", new StringContent("x"), HttpStatusCode.BadRequest, "Missing key name"),
            (HttpMethod.Delete, "", null, HttpStatusCode.BadRequest, "Missing key name"),
            (HttpMethod.Get, "", null, HttpStatusCode.BadRequest, "Missing key name"),
            (HttpMethod.Put, "bad//k", new StringContent("x"), HttpStatusCode.BadRequest, "invalid key \"bad//k\": empty segment"),
            (HttpMethod.Put, "bad/%01k", new StringContent("x"), HttpStatusCode.BadRequest, "control character U+0001"),
            (HttpMethod.Delete, "/bad/k", null, HttpStatusCode.BadRequest, "must not begin with \"/\""),
            (HttpMethod.Put, "bad/k?flags=x", new StringContent("x"), HttpStatusCode.BadRequest, "Invalid flags: \"x\""),
            (HttpMethod.Put, "bad/k?cas=-1", new StringContent("x"), HttpStatusCode.BadRequest, "Invalid cas: \"-1\""),
            (HttpMethod.Get, "bad/k?index=x", null, HttpStatusCode.BadRequest, "Invalid index: \"x\""),
            (HttpMethod.Get, "bad/k?index=1&wait=forever", null, HttpStatusCode.BadRequest, "Invalid wait time: \"forever\""),
            (HttpMethod.Get, "bad/k?index=1&wait=5", null, HttpStatusCode.BadRequest, "Invalid wait time: \"5\""),
            (HttpMethod.Get, "bad/k?index=1&wait=-1s", null, HttpStatusCode.BadRequest, "Invalid wait time: \"-1s\" is negative"),
            (HttpMethod.Get, "bad/k?foo=1&recurse", null, HttpStatusCode.BadRequest, "Unknown query parameter \"foo\""),
            (HttpMethod.Put, "bad/k?acquire=session", new StringContent("x"), HttpStatusCode.BadRequest, "sessions and locks"),
            (HttpMethod.Delete, "bad/k?recurse&cas=1", null, HttpStatusCode.BadRequest, "Conflicting flags"),
            (HttpMethod.Put, "bad/k", new ByteArrayContent([0x61, 0xFF, 0x62]), HttpStatusCode.BadRequest, "the value for \"bad/k\" is not valid UTF-8 (byte 0xFF at offset 1)"),
            (HttpMethod.Put, "bad/k", new ByteArrayContent(tooLarge), HttpStatusCode.RequestEntityTooLarge, "Value exceeds 524288 byte limit"),
            (HttpMethod.Put, "bad/k/sub", new StringContent("x"), HttpStatusCode.Conflict, "\"bad/k\" holds a value"),
            (HttpMethod.Put, "bad/folder/", new StringContent("x"), HttpStatusCode.BadRequest, "cannot hold a value"),
            (HttpMethod.Delete, "bad/folder/?cas=1", null, HttpStatusCode.BadRequest, "cas is not supported on folder"),
            (HttpMethod.Post, "bad/k", new StringContent("x"), HttpStatusCode.MethodNotAllowed, "GET, PUT and DELETE"),
        };
        foreach (var (method, path, body, status, message) in cases)
        {
            var reply = await kv.Send(method, path, body);
            Assert.True(reply.Status == status, $"{method} {path}: expected {(int)status}, got {reply}");
            Assert.True(reply.Body.Contains(message, StringComparison.Ordinal), $"{method} {path}: expected \"{message}\" in {reply}");
            Assert.StartsWith("text/plain", reply.ContentType);
        }
        foreach (var target in new[] { "/v1/kv/bad/%2E%2E/k", "/v1/kv/bad/../k", "/v1/kv/bad/./k" })
        {
            var (status, body) = await kv.SendRaw("PUT", target);
            Assert.True(status == HttpStatusCode.BadRequest, $"PUT {target}: expected 400, got {(int)status} {body}");
            Assert.Contains("segments are not allowed", body);
        }

        var entry = (await kv.Get("bad/k")).Entry;
        Assert.Equal("kept", Value(entry));
        Assert.Equal(3ul, entry.GetProperty("Flags").GetUInt64());
        Assert.Equal(original.Index, ModifyIndex(entry));
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("bad/folder/")).Status);
        Assert.Equal(before, await kv.KeyspaceIndex());

        // The limit itself is allowed.
        await Ok(kv.Put("bad/largest", tooLarge[..524_288]));
    }

    [Fact]
    public async Task A_key_written_through_v1_kv_is_the_same_key_with_the_same_indexes_in_v2_keys_and_back()
    {
        var put = await Ok(kv.Put("both/from-consul", "c"));
        using (var etcd = await kv.Http.GetAsync("/v2/keys/both/from-consul"))
        {
            var node = JsonDocument.Parse(await etcd.Content.ReadAsStringAsync()).RootElement.GetProperty("node");
            Assert.Equal("c", node.GetProperty("value").GetString());
            Assert.Equal(put.Index, node.GetProperty("modifiedIndex").GetUInt64());
            Assert.Equal(put.Index, node.GetProperty("createdIndex").GetUInt64());
        }

        ulong etcdIndex;
        using (var etcd = await kv.Http.PutAsync("/v2/keys/both/from-etcd", new FormUrlEncodedContent([new("value", "e")])))
            etcdIndex = JsonDocument.Parse(await etcd.Content.ReadAsStringAsync()).RootElement.GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        var read = await kv.Get("both/from-etcd");
        Assert.Equal("e", Value(read.Entry));
        Assert.Equal(etcdIndex, ModifyIndex(read.Entry));
        Assert.Equal(etcdIndex, read.Index);
        Assert.Equal(["both/from-consul", "both/from-etcd"], (await kv.Get("both/?recurse")).EntryKeys);

        using (await kv.Http.DeleteAsync("/v2/keys/both/from-consul"))
        {
        }
        Assert.Equal(HttpStatusCode.NotFound, (await kv.Get("both/from-consul")).Status);
    }

    [Fact]
    public async Task A_blocking_query_wakes_when_its_key_changes_and_not_before()
    {
        var put = await Ok(kv.Put("block/k", "v1"));
        var query = kv.Get($"block/k?index={put.Index}&wait=30s");
        await StillBlocked(query);

        var woke = await WriteWakes(query, "block/k", "v2");
        Assert.Equal("v2", Value(woke.Entry));

        // An index the key has already moved past answers at once.
        var sw = Stopwatch.StartNew();
        var past = await kv.Get($"block/k?index={put.Index}&wait=30s");
        Assert.Equal(woke.Index, past.Index);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Many_blocking_queries_on_one_key_all_wake_with_its_change()
    {
        var put = await Ok(kv.Put("many/k", "v1"));
        var queries = Enumerable.Range(0, 100).Select(_ => kv.Get($"many/k?index={put.Index}&wait=30s")).ToArray();
        await StillBlocked(Task.WhenAny(queries).Unwrap(), queries.Length);

        var change = await Ok(kv.Put("many/k", "v2"));
        foreach (var woke in await Task.WhenAll(queries).WaitAsync(s_wake))
        {
            Assert.Equal(change.Index, woke.Index);
            Assert.Equal("v2", Value(woke.Entry));
        }
    }

    [Fact]
    public async Task A_blocking_query_keeps_blocking_through_changes_to_other_keys_and_ends_with_its_wait()
    {
        var put = await Ok(kv.Put("quiet/k", "v"));
        var sw = Stopwatch.StartNew();
        var query = kv.Get($"quiet/k?index={put.Index}&wait=2s");
        // When the answer came, not when the loop below noticed it: on a slow machine a round of writes may outlast the wait.
        var answeredAt = query.ContinueWith(_ => sw.Elapsed, TaskScheduler.Default);
        // Changes elsewhere: a key "quiet/k" is a string prefix of, a sibling, another tree.
        for (var i = 0; sw.Elapsed < TimeSpan.FromSeconds(1.5) && !query.IsCompleted; i++)
        {
            await Ok(kv.Put("quiet/k2", $"{i}"));
            await Ok(kv.Put("quiet/other", $"{i}"));
            await Ok(kv.Put("elsewhere/x", $"{i}"));
            await WaitingOrAnswered(query);
        }
        var answer = await query.WaitAsync(s_wake);
        var at = await answeredAt;
        Assert.True(at >= TimeSpan.FromSeconds(1.95), $"answered after {at}: {answer}");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(put.Index, answer.Index);
        Assert.Equal("v", Value(answer.Entry));
    }

    [Fact]
    public async Task A_blocking_query_that_times_out_answers_the_same_index_after_its_wait()
    {
        var put = await Ok(kv.Put("timeout/k", "v"));
        foreach (var (wait, seconds) in new[] { ("1s", 1.0), ("300ms", 0.3), (".25s", 0.25) })
        {
            var sw = Stopwatch.StartNew();
            var answer = await kv.Get($"timeout/k?index={put.Index}&wait={wait}");
            Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(seconds * 0.98), $"wait={wait} answered after {sw.Elapsed}");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(seconds + 10), $"wait={wait} answered after {sw.Elapsed}");
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Equal(put.Index, answer.Index);
        }
    }

    [Fact]
    public async Task A_blocking_listing_wakes_for_a_key_with_its_prefix_and_for_a_delete_then_blocks_again()
    {
        await Ok(kv.Put("watchdir/a", "1"));
        var last = await Ok(kv.Put("watchdir/b", "2"));
        var query = kv.Get($"watchdir/?recurse&index={last.Index}&wait=30s");
        await StillBlocked(query);
        await Ok(kv.Put("watchdirx", "not under the prefix"));
        await StillBlocked(query);

        var woke = await WriteWakes(query, "watchdir/c/d", "3");
        Assert.Equal(["watchdir/a", "watchdir/b", "watchdir/c/d"], woke.EntryKeys);

        // A delete wakes it with the delete's index, though what is left is older.
        var keys = kv.Get($"watchdir/?keys&index={woke.Index}&wait=30s");
        await StillBlocked(keys);
        var deleted = await Ok(kv.Delete("watchdir/c/d"));
        var afterDelete = await keys.WaitAsync(s_wake);
        Assert.Equal(deleted.Index, afterDelete.Index);
        Assert.Equal(["watchdir/a", "watchdir/b"], afterDelete.Keys);

        // That index blocks: the entries' lower index does not make the next query return at once.
        var sw = Stopwatch.StartNew();
        var again = await kv.Get($"watchdir/?keys&index={afterDelete.Index}&wait=500ms");
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.49), $"answered after {sw.Elapsed}");
        Assert.Equal(afterDelete.Index, again.Index);
    }

    [Fact]
    public async Task A_blocking_listing_wakes_for_a_hidden_key_with_its_prefix()
    {
        var last = await Ok(kv.Put("hiddenwatch/a", "1"));
        var query = kv.Get($"hiddenwatch/?recurse&index={last.Index}&wait=30s");
        await StillBlocked(query);
        var woke = await WriteWakes(query, "hiddenwatch/_secret", "2");
        Assert.Equal(["hiddenwatch/_secret", "hiddenwatch/a"], woke.EntryKeys);
    }

    [Fact]
    public async Task A_blocking_query_on_a_missing_key_waits_for_that_key_through_other_writes()
    {
        var missing = await kv.Get("absent/k");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        var query = kv.Get($"absent/k?index={missing.Index}&wait=30s");
        await Ok(kv.Put("absent/other", "x"));
        await Ok(kv.Put("absent/k2", "x"));
        await StillBlocked(query);

        var woke = await WriteWakes(query, "absent/k", "here");
        Assert.Equal("here", Value(woke.Entry));
    }

    [Fact]
    public async Task A_blocking_query_older_than_the_history_answers_at_once_and_the_next_one_blocks()
    {
        var put = await Ok(kv.Put("history/k", "v"));
        // Push the key's index out of the shared silo's history window.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            for (var i = 0; i < ConsulSilo.HistoryCapacity / 8 + 2; i++) await Ok(kv.Put($"history/churn/{w}", $"{i}"));
        }));

        var sw = Stopwatch.StartNew();
        var cleared = await kv.Get($"history/k?index={put.Index}&wait=30s");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"answered after {sw.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, cleared.Status);
        Assert.Equal(await kv.KeyspaceIndex(), cleared.Index);

        sw.Restart();
        var next = await kv.Get($"history/k?index={cleared.Index}&wait=500ms");
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.49), $"answered after {sw.Elapsed}");
        Assert.Equal(cleared.Index, next.Index);
    }
}

using System.Text;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>What a <c>/v1/kv</c> request answers: status, body and the index for <c>X-Consul-Index</c>.</summary>
internal sealed record ConsulKvAnswer(int Status, byte[] Body, string ContentType, ulong Index)
{
    /// <summary>The keyspace's index when the answer was read.</summary>
    public ulong CurrentIndex { get; init; }

    /// <summary>The answer shows entries, and <see cref="ConsulKvAnswer.Index"/> is the highest of their modify indexes (not the keyspace's index).</summary>
    public bool HasEntries { get; init; }
}

/// <summary>
/// A GET of <c>/v1/kv</c>: one key (or folder), or every key whose Consul name starts with a string prefix, as
/// entries or names. Knows the keyspace read that answers it and the watch that wakes when the answer may change.
/// </summary>
internal sealed class ConsulKvQuery
{
    private const string Json = "application/json";

    private readonly ConsulKvRequest _request;
    private readonly bool _listing;

    public ConsulKvQuery(ConsulKvRequest request)
    {
        _request = request;
        Identity = new Shape(request.Key, request.Recurse, request.Keys, request.Raw, request.Keys ? request.Separator : null);
        _listing = request.Recurse || request.Keys;
        if (_listing)
        {
            // A listing reads the directory that holds every key with the prefix, hidden keys included.
            var prefix = request.Key;
            Read = new KeyRequest { Op = KeyOp.Get, Key = ConsulKeys.DirectoryOf(prefix), Recursive = true, IncludeHidden = true };
            Filter = e => ConsulKeys.Touches(e, prefix);
        }
        else
        {
            Read = new KeyRequest { Op = KeyOp.Get, Key = request.NormalKey };
        }
    }

    /// <summary>What the answer depends on: two queries with the same identity read the same answer.</summary>
    public Shape Identity { get; }

    /// <summary>The keyspace read.</summary>
    public KeyRequest Read { get; }

    /// <summary>The key a blocking query watches (normal form).</summary>
    public string WatchKey => Read.Key;

    /// <summary>What an event under <see cref="WatchKey"/> must pass to wake a listing; null for one key.</summary>
    public Func<KeyEvent, bool>? Filter { get; }

    /// <summary>
    /// A listing watches below its directory; one key watches only itself, except a missing folder, which any key
    /// created below it brings into being.
    /// </summary>
    public bool WatchesRecursively(ConsulKvAnswer answer) => _listing || (_request.IsFolder && !answer.HasEntries);

    public async Task<ConsulKvAnswer> ReadAsync(IKeyspaceGrain keyspace)
    {
        var result = await keyspace.Execute(Read);
        if (result.Failed)
        {
            if (result.ErrorCode is not (KeyErrorCode.KeyNotFound or KeyErrorCode.NotDir)) throw ConsulKvException.From(result);
            return NotFound(result.ErrorIndex);
        }
        var e = result.Event!;
        return _listing ? List(e) : One(e);
    }

    private ConsulKvAnswer One(KeyEvent e)
    {
        var node = e.Node;
        // A directory made only by writing below it was never put: not a Consul key.
        if (node.Dir != _request.IsFolder || node.Implicit) return NotFound(e.EtcdIndex);
        var answer = _request.Raw
            ? new ConsulKvAnswer(200, node.Dir ? [] : Encoding.UTF8.GetBytes(node.Value!), "text/plain", node.ModifiedIndex)
            : new ConsulKvAnswer(200, ConsulKvJson.Entries([(_request.Key, node)]), Json, node.ModifiedIndex);
        return answer with { CurrentIndex = e.EtcdIndex, HasEntries = true };
    }

    private ConsulKvAnswer List(KeyEvent e)
    {
        var prefix = _request.Key;
        var found = new List<(string Name, KeyNodeSnapshot Node)>();
        Collect(e.Node, prefix, found);
        found.Sort(static (a, b) => KeyPath.Compare(a.Name, b.Name));

        ulong highest = 0;
        byte[] body;
        var count = 0;
        if (_request.Keys)
        {
            var names = new List<string>(found.Count);
            var separator = _request.Separator;
            foreach (var (name, node) in found)
            {
                string listed;
                var cut = separator is null ? -1 : name.IndexOf(separator, prefix.Length, StringComparison.Ordinal);
                listed = cut >= 0 ? name[..(cut + separator!.Length)] : name;
                highest = Math.Max(highest, node.ModifiedIndex);
                if (names.Count == 0 || names[^1] != listed) names.Add(listed);
            }
            count = names.Count;
            // Consul answers the root's empty list with [], any other empty list with 404.
            if (count == 0 && prefix.Length != 0) return NotFound(e.EtcdIndex);
            body = ConsulKvJson.Keys(names);
        }
        else
        {
            foreach (var (_, node) in found) highest = Math.Max(highest, node.ModifiedIndex);
            count = found.Count;
            if (count == 0) return NotFound(e.EtcdIndex);
            body = ConsulKvJson.Entries(found);
        }
        return count == 0
            ? new ConsulKvAnswer(200, body, Json, e.EtcdIndex) { CurrentIndex = e.EtcdIndex }
            : new ConsulKvAnswer(200, body, Json, highest) { CurrentIndex = e.EtcdIndex, HasEntries = true };
    }

    /// <summary>
    /// Adds every Consul key below (and including) <paramref name="node"/> whose name starts with the prefix: keys and
    /// the folders that were put, not the directories made only by writing below them.
    /// </summary>
    private static void Collect(KeyNodeSnapshot node, string prefix, List<(string Name, KeyNodeSnapshot Node)> into)
    {
        if (ConsulKeys.NameStartsWith(node, prefix))
        {
            if (node.Key.Length > 1 && !node.Implicit) into.Add((ConsulKeys.Name(node), node));
        }
        else if (!ConsulKeys.MayHoldPrefix(node, prefix))
        {
            return;
        }
        if (node.Nodes is { } children)
            foreach (var child in children) Collect(child, prefix, into);
    }

    /// <summary>The parameters an answer depends on.</summary>
    public readonly record struct Shape(string Key, bool Recurse, bool Keys, bool Raw, string? Separator);

    private static ConsulKvAnswer NotFound(ulong currentIndex) => new(404, [], Json, currentIndex) { CurrentIndex = currentIndex };
}

using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// A <c>/v2/keys</c> request parsed as etcd parses it (<c>parseKeyRequest</c> in etcd's v2http): the same checks in
/// the same order with the same error codes and causes, then the choice of store operation (<c>applyV2Request</c>).
/// </summary>
internal sealed class EtcdKeysRequest
{
    public required string Key { get; init; }

    public ulong WaitIndex { get; init; }

    public bool Recursive { get; init; }

    public bool Stream { get; init; }

    public bool NoValueOnSuccess { get; init; }

    /// <summary>The store operation; null for a watch.</summary>
    public KeyRequest? Operation { get; init; }

    /// <summary>Parses <paramref name="form"/> for <paramref name="method"/> on <paramref name="rawKey"/>; throws <see cref="KeyException"/> as etcd answers bad input.</summary>
    public static EtcdKeysRequest Parse(string method, string rawKey, EtcdForm form)
    {
        var prevIndex = form.UInt("prevIndex", KeyErrorCode.IndexNaN, "invalid value for \"prevIndex\"");
        var waitIndex = form.UInt("waitIndex", KeyErrorCode.IndexNaN, "invalid value for \"waitIndex\"");
        var recursive = form.Bool("recursive", "invalid value for \"recursive\"");
        var sorted = form.Bool("sorted", "invalid value for \"sorted\"");
        var wait = form.Bool("wait", "invalid value for \"wait\"");
        var dir = form.Bool("dir", "invalid value for \"dir\"");
        form.Bool("quorum", "invalid value for \"quorum\"");
        var stream = form.Bool("stream", "invalid value for \"stream\"");
        if (wait && !HttpMethods.IsGet(method)) throw new KeyException(KeyErrorCode.InvalidField, "\"wait\" can only be used with GET requests", 0);
        var prevValue = form.First("prevValue");
        if (prevValue is { Length: 0 }) throw new KeyException(KeyErrorCode.PrevValueRequired, "\"prevValue\" cannot be empty", 0);
        var noValueOnSuccess = form.Bool("noValueOnSuccess", "invalid value for \"noValueOnSuccess\"");
        TimeSpan? ttl = null;
        if (form.Value("ttl").Length > 0)
        {
            var seconds = EtcdForm.ParseUInt(form.Value("ttl")) ?? throw new KeyException(KeyErrorCode.TtlNaN, "invalid value for \"ttl\"", 0);
            // etcd turns the TTL into nanoseconds since 1970; anything that cannot be a time is not a number to it either.
            if (seconds > (ulong)TimeSpan.MaxValue.TotalSeconds / 2) throw new KeyException(KeyErrorCode.TtlNaN, "invalid value for \"ttl\"", 0);
            ttl = TimeSpan.FromSeconds(seconds);
        }
        var prevExist = form.OptionalBool("prevExist", "invalid value for prevExist");
        var refresh = form.OptionalBool("refresh", "invalid value for refresh") ?? false;
        if (refresh)
        {
            if (form.Value("value").Length != 0) throw new KeyException(KeyErrorCode.RefreshValue, "A value was provided on a refresh", 0);
            if (ttl is null) throw new KeyException(KeyErrorCode.RefreshTtlRequired, "No TTL value set", 0);
        }
        if (form.FirstUnknown() is { } unknown)
            throw new KeyException(KeyErrorCode.InvalidField, $"unknown parameter {KeyPath.Quote(unknown)}: the keys API takes value, ttl, dir, prevValue, prevIndex, prevExist, recursive, sorted, wait, waitIndex, quorum, stream, refresh and noValueOnSuccess", 0);
        if (!KeyPath.TryNormalize(rawKey, out var key, out var problem)) throw new KeyException(KeyErrorCode.InvalidForm, problem, 0);

        var value = form.Value("value");
        KeyRequest? operation = null;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            if (!wait) operation = new KeyRequest { Op = KeyOp.Get, Key = key, Recursive = recursive, Sorted = sorted };
        }
        else if (HttpMethods.IsPut(method))
        {
            var compare = prevIndex > 0 || prevValue is not null;
            var op = prevExist switch
            {
                true when !compare => KeyOp.Update,
                true => KeyOp.CompareAndSwap,
                false => KeyOp.Create,
                null when compare => KeyOp.CompareAndSwap,
                null => KeyOp.Set,
            };
            operation = new KeyRequest
            {
                Op = op,
                Key = key,
                Value = value,
                Ttl = ttl,
                Dir = dir,
                Refresh = refresh,
                PrevValue = op == KeyOp.CompareAndSwap ? prevValue : null,
                PrevIndex = op == KeyOp.CompareAndSwap && prevIndex > 0 ? prevIndex : null,
            };
        }
        else if (HttpMethods.IsPost(method))
        {
            operation = new KeyRequest { Op = KeyOp.CreateInOrder, Key = key, Value = value, Ttl = ttl, Dir = dir };
        }
        else
        {
            var compare = prevIndex > 0 || prevValue is not null;
            operation = compare
                ? new KeyRequest { Op = KeyOp.CompareAndDelete, Key = key, PrevValue = prevValue, PrevIndex = prevIndex > 0 ? prevIndex : null }
                : new KeyRequest { Op = KeyOp.Delete, Key = key, Dir = dir, Recursive = recursive };
        }
        return new EtcdKeysRequest
        {
            Key = key,
            WaitIndex = waitIndex,
            Recursive = recursive,
            Stream = stream,
            NoValueOnSuccess = noValueOnSuccess,
            Operation = operation,
        };
    }
}

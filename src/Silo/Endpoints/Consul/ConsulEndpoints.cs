using System.Globalization;
using System.Text;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>
/// Consul's KV HTTP API (<c>/v1/kv</c>) over the same keyspace as etcd's <c>/v2/keys</c>: Consul key <c>a/b</c> is
/// keyspace key <c>/a/b</c>, with the same indexes. Reads, writes with flags and check-and-set, deletes by key,
/// folder or string prefix, and blocking queries. See README.md beside this file for what differs from Consul.
/// </summary>
public static class ConsulEndpoints
{
    private const string KvPrefix = "/v1/kv";

    public static IEndpointRouteBuilder MapConsulEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map(KvPrefix, HandleKv);
        app.Map(KvPrefix + "/{**key}", HandleKv);
        return app;
    }

    private static async Task HandleKv(HttpContext context)
    {
        var method = context.Request.Method;
        var hub = context.RequestServices.GetRequiredService<KeyWatchHub>();
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method)))
        {
            context.Response.Headers.Allow = "GET, PUT, DELETE";
            await WriteError(context, new ConsulKvException(405, $"method {method} not allowed: /v1/kv takes GET, PUT and DELETE"), hub);
            return;
        }

        try
        {
            var request = ConsulKvRequest.Parse(context, KvPrefix);
            var answer = HttpMethods.IsGet(method) ? await GetAsync(hub, request, context.RequestAborted)
                : HttpMethods.IsPut(method) ? await PutAsync(hub, request, await request.ReadValueAsync(context.Request))
                : await DeleteAsync(hub, request);
            await Write(context, answer);
        }
        catch (ConsulKvException e)
        {
            await WriteError(context, e, hub);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteError(context, new ConsulKvException(e.StatusCode, $"the request could not be read: {e.Message}"), hub);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // The keyspace is moving (its silo died) or unreachable: Consul's answer when it has no leader.
            await WriteError(context, new ConsulKvException(500, $"the keyspace is unavailable: {e.Message}"), hub);
        }
    }

    private static Task<ConsulKvAnswer> GetAsync(KeyWatchHub hub, ConsulKvRequest request, CancellationToken aborted)
    {
        var query = new ConsulKvQuery(request);
        return request.Index == 0
            ? query.ReadAsync(hub.Keyspace)
            : ConsulBlockingQuery.RunAsync(hub, query, request.Index, request.Wait, aborted);
    }

    /// <summary>
    /// Writes a key (<c>cas=0</c>: only a new one; <c>cas=N</c>: only at modify index N) or creates a folder;
    /// answers <c>true</c> or <c>false</c>.
    /// </summary>
    private static async Task<ConsulKvAnswer> PutAsync(KeyWatchHub hub, ConsulKvRequest request, string value)
    {
        var key = request.NormalKey;
        if (request.IsFolder)
        {
            if (value.Length != 0) throw new ConsulKvException(400, $"folder {KeyPath.Quote(request.Key)} cannot hold a value: folders are directories here; write the value to a key without the trailing \"/\"");
            if (request.Cas is > 0) throw new ConsulKvException(400, $"cas={request.Cas} is not supported on folder {KeyPath.Quote(request.Key)}: only cas=0 (create if absent)");
        }
        var op = request.Cas switch
        {
            0 => KeyOp.Create,
            null when request.IsFolder => KeyOp.Create,
            null => KeyOp.Set,
            _ => KeyOp.CompareAndSwap,
        };
        var result = await hub.ExecuteAsync(new KeyRequest
        {
            Op = op,
            Key = key,
            Value = value,
            Dir = request.IsFolder,
            Flags = request.Flags,
            PrevIndex = op == KeyOp.CompareAndSwap ? request.Cas : null,
        });
        if (!result.Failed) return await Written(hub, result.Event!.Index);

        switch (result.ErrorCode)
        {
            case KeyErrorCode.TestFailed or KeyErrorCode.KeyNotFound or KeyErrorCode.NotFile or KeyErrorCode.NotDir when op == KeyOp.CompareAndSwap:
                // The key was changed, or is not there (a folder of that name, or a value in its path, is not the key): Consul's false.
                return Bool(false, result.ErrorIndex);
            case KeyErrorCode.NotDir:
                throw Conflict(request, $"{KeyPath.Quote(ConsulKeys.FromKeyspace(result.ErrorCause))} holds a value, so it cannot also be a folder", result.ErrorIndex);
            case KeyErrorCode.NotFile when op == KeyOp.Set:
                throw Conflict(request, $"{KeyPath.Quote(request.Key + "/")} is a folder, so {KeyPath.Quote(request.Key)} cannot also hold a value", result.ErrorIndex);
            case KeyErrorCode.NodeExist:
                // Something is there already: a folder for a folder is success without cas; the other kind is a conflict.
                var existing = await hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Get, Key = key });
                if (existing.Event is { Node.Dir: var isDir } found && isDir != request.IsFolder)
                {
                    throw Conflict(request, isDir
                        ? $"{KeyPath.Quote(request.Key + "/")} is a folder, so {KeyPath.Quote(request.Key)} cannot also hold a value"
                        : $"{KeyPath.Quote(request.Key[..^1])} holds a value, so it cannot also be a folder", found.EtcdIndex);
                }
                if (request.IsFolder && request.Cas is null or 0 && existing.Event is { Node: { Dir: true, Implicit: true } })
                {
                    // A directory made by writing below it was never put, so the folder key is new: naming it in a write makes it one.
                    var named = await hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Update, Key = key, Dir = true, Flags = request.Flags });
                    if (named.Failed) throw ConsulKvException.From(named);
                    return await Written(hub, named.Event!.Index);
                }
                var succeeded = request.IsFolder && request.Cas is null && existing.Event is not null;
                return Bool(succeeded, existing.Event?.Node.ModifiedIndex ?? existing.ErrorIndex);
            default:
                throw ConsulKvException.From(result);
        }
    }

    /// <summary>
    /// Deletes a key, a folder with everything in it, every key with a string prefix (<c>recurse</c>), or a key at a
    /// modify index (<c>cas</c>). A key that is not there is deleted already: <c>true</c>, as in Consul.
    /// </summary>
    private static async Task<ConsulKvAnswer> DeleteAsync(KeyWatchHub hub, ConsulKvRequest request)
    {
        if (request.Cas is { } cas)
        {
            if (request.IsFolder) throw new ConsulKvException(400, $"cas is not supported on folder {KeyPath.Quote(request.Key)}");
            if (cas == 0)
            {
                // No key has modify index 0: the delete "succeeds" exactly when there is nothing to delete.
                var read = await hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Get, Key = request.NormalKey });
                return Bool(read.Event is not { Node.Dir: false }, read.Event?.EtcdIndex ?? read.ErrorIndex);
            }
            var compared = await hub.ExecuteAsync(new KeyRequest { Op = KeyOp.CompareAndDelete, Key = request.NormalKey, PrevIndex = cas });
            if (!compared.Failed) return await Written(hub, compared.Event!.Index);
            return compared.ErrorCode switch
            {
                KeyErrorCode.TestFailed => Bool(false, compared.ErrorIndex),
                KeyErrorCode.KeyNotFound or KeyErrorCode.NotDir or KeyErrorCode.NotFile => Bool(true, compared.ErrorIndex),
                _ => throw ConsulKvException.From(compared),
            };
        }

        // A folder goes by its prefix "/a/b/", which takes the directory only if it is one: never a key of that name.
        var operation = request.Recurse || request.IsFolder
            ? new KeyRequest { Op = KeyOp.DeletePrefix, Key = "/" + request.Key }
            : new KeyRequest { Op = KeyOp.Delete, Key = request.NormalKey };
        var result = await hub.ExecuteAsync(operation);
        if (result.Event is { } e) return await Written(hub, e.Index);
        if (!result.Failed || result.ErrorCode is KeyErrorCode.KeyNotFound or KeyErrorCode.NotDir or KeyErrorCode.NotFile) return Bool(true, result.ErrorIndex);
        throw ConsulKvException.From(result);
    }

    /// <summary>A successful write's <c>true</c>, once this silo's watch hub has seen it (so a blocking query made next never wakes for it).</summary>
    private static async Task<ConsulKvAnswer> Written(KeyWatchHub hub, ulong index)
    {
        await hub.WaitSeenAsync(index);
        return Bool(true, index);
    }

    private static ConsulKvAnswer Bool(bool value, ulong index) => new(200, ConsulKvJson.Bool(value), "application/json", index) { CurrentIndex = index };

    private static ConsulKvException Conflict(ConsulKvRequest request, string why, ulong index) =>
        new(409, $"cannot write {KeyPath.Quote(request.Key)}: {why} (keys and folders share one tree here)", index);

    private static async Task Write(HttpContext context, ConsulKvAnswer answer)
    {
        var response = context.Response;
        SetHeaders(response, answer.Index);
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        if (answer.ContentType != "application/json")
        {
            // A raw value is whatever a client stored: never let a browser run it (as Consul does).
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.ContentSecurityPolicy = "sandbox";
        }
        response.ContentLength = answer.Body.Length;
        if (answer.Body.Length != 0) await response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    private static Task WriteError(HttpContext context, ConsulKvException error, KeyWatchHub hub)
    {
        var response = context.Response;
        SetHeaders(response, error.Index ?? hub.LastIndex);
        response.StatusCode = error.Status;
        response.ContentType = "text/plain; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(error.Message + "\n");
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, 0, bytes.Length);
    }

    private static void SetHeaders(HttpResponse response, ulong index)
    {
        var headers = response.Headers;
        // Index 0 would make a client's next blocking query return at once, forever (Consul never sends it either).
        headers["X-Consul-Index"] = Math.Max(index, 1).ToString(CultureInfo.InvariantCulture);
        headers["X-Consul-KnownLeader"] = "true";
        headers["X-Consul-LastContact"] = "0";
    }
}

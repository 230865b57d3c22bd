using System.Buffers;
using System.Globalization;
using System.Text;
using Platform.Grains.Keys;
using Platform.Runtime.Hosting;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// etcd's v2 HTTP API over the keyspace: <c>/v2/keys</c> (reads, writes, long-poll and streaming watches),
/// <c>/version</c>, <c>/v2/members</c> and <c>/health</c>, with etcd's status codes, headers and JSON.
/// </summary>
public static class EtcdEndpoints
{
    private const string KeysPrefix = "/v2/keys";

    public static IEndpointRouteBuilder MapEtcdEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map(KeysPrefix, HandleKeys);
        app.Map(KeysPrefix + "/{**key}", HandleKeys);
        app.MapGet("/version", (HttpContext context) => WriteJson(context, 200, "{\"etcdserver\":\"3.4.0\",\"etcdcluster\":\"3.4.0\"}"));
        app.MapGet("/health", (HttpContext context) => WriteJson(context, 200, "{\"health\":\"true\"}\n"));
        app.MapGet("/v2/members", context => WriteJson(context, 200, "{\"members\":[" + string.Join(',', Members(context)) + "]}\n"));
        // etcdctl member list asks for the leader too; the first member (in address order) answers as such.
        app.MapGet("/v2/members/leader", context => WriteJson(context, 200, Members(context)[0] + "\n"));
        return app;
    }

    private static async Task HandleKeys(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var method = request.Method;
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsPut(method) || HttpMethods.IsPost(method) || HttpMethods.IsDelete(method)))
        {
            response.StatusCode = 405;
            response.Headers.Allow = "GET,HEAD,PUT,POST,DELETE";
            await WriteText(context, "Method Not Allowed\n");
            return;
        }

        var handler = context.RequestServices.GetRequiredService<EtcdKeysHandler>();
        var aborted = context.RequestAborted;
        EtcdReply reply;
        try
        {
            var form = await EtcdForm.ReadAsync(request);
            reply = await handler.HandleAsync(method, EtcdForm.RawPath(request), form, request.Headers.Authorization, aborted);
        }
        catch (KeyException e)
        {
            reply = EtcdReply.Error(e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        if (reply.Watch is null)
        {
            SetHeaders(response, reply);
            response.ContentLength = reply.Body.Length;
            await response.Body.WriteAsync(reply.Body, aborted);
            return;
        }
        await WatchAsync(context, handler.Hub, reply);
    }

    /// <summary>A long poll (one event) or, with <c>stream=true</c>, every event until the client goes away.</summary>
    private static async Task WatchAsync(HttpContext context, KeyWatchHub hub, EtcdReply reply)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        var watch = reply.Watch!;
        try
        {
            SetHeaders(response, reply);
            // Headers go out as soon as the watch is registered, as etcd flushes them.
            await response.Body.FlushAsync(aborted);
            while (true)
            {
                // A client that goes away ends the watch, and the wait with it.
                watch.EndWhen(aborted);
                var e = await watch.Event;
                if (e is null) return;
                // Buffered, not flushed: a long poll's body and the end of its response leave in one send.
                response.BodyWriter.Write(EtcdEventBytes.Of(e).Body.Span);
                if (!reply.Stream) return;
                await response.BodyWriter.FlushAsync(aborted);
                watch.Dispose();
                try
                {
                    watch = await hub.WatchAsync(watch.Key, watch.Recursive, e.Event.Index + 1, cancellationToken: aborted);
                }
                catch (KeyException cleared)
                {
                    // A stream that fell behind the history ends with the error instead of skipping events.
                    await response.Body.WriteAsync(EtcdReply.Error(cleared).Body, aborted);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
        finally
        {
            watch.Dispose();
        }
    }

    /// <summary>Each active silo as an etcd member object (JSON), in address order; never empty.</summary>
    private static List<string> Members(HttpContext context)
    {
        var runtime = context.RequestServices.GetRequiredService<GrainRuntime>();
        var self = $"{context.Request.Scheme}://{context.Request.Host}";
        var members = new List<string>();
        if (runtime.Cluster is { } cluster)
        {
            foreach (var m in cluster.Membership.Members.Where(m => m.Status == Platform.Runtime.Membership.SiloStatus.Active).OrderBy(m => m.Silo))
                members.Add(Member(m.SiloName, m.Silo.ToString(), m.Silo == cluster.Self ? self : m.HttpUrl ?? self, PeerUrl(m.Silo)));
            if (members.Count == 0) members.Add(Member(runtime.Options.SiloName, cluster.Self.ToString(), self, PeerUrl(cluster.Self)));
        }
        else
        {
            // A single silo has no peer port; its one URL serves both.
            members.Add(Member(runtime.Options.SiloName, runtime.Options.SiloName, self, self));
        }
        return members;
    }

    private static string Member(string name, string identity, string clientUrl, string peerUrl)
    {
        var json = new StringBuilder();
        AppendMember(json, name, identity, clientUrl, peerUrl);
        return json.ToString();
    }

    private static void AppendMember(StringBuilder json, string name, string identity, string clientUrl, string peerUrl)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(identity)) hash = (hash ^ b) * 1099511628211UL;
        var id = hash.ToString("x16", CultureInfo.InvariantCulture);
        json.Append("{\"id\":\"").Append(id).Append("\",\"name\":");
        AppendString(json, name);
        json.Append(",\"peerURLs\":[");
        AppendString(json, peerUrl);
        json.Append("],\"clientURLs\":[");
        AppendString(json, clientUrl.TrimEnd('/'));
        json.Append("]}");
    }

    /// <summary>The silo-to-silo endpoint, as the URL etcd would give a peer.</summary>
    private static string PeerUrl(Platform.Runtime.Membership.SiloAddress silo) => $"tcp://{silo.Endpoint}";

    private static void AppendString(StringBuilder json, string value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + 8);
        EtcdJson.WriteString(buffer, value);
        json.Append(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>The key part of the (decoded) path.</summary>
    internal static string RawKey(string path) => path.Length <= KeysPrefix.Length ? "" : path[KeysPrefix.Length..];

    /// <summary>The reply's status and etcd's headers (raft headers only on a reply that has a term).</summary>
    private static void SetHeaders(HttpResponse response, EtcdReply reply)
    {
        response.StatusCode = reply.Status;
        var headers = response.Headers;
        headers.ContentType = "application/json";
        var index = reply.Index.ToString(CultureInfo.InvariantCulture);
        headers["X-Etcd-Cluster-Id"] = ClusterId;
        headers["X-Etcd-Index"] = index;
        if (reply.Term is { } term)
        {
            headers["X-Raft-Index"] = index;
            headers["X-Raft-Term"] = term.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A fixed id for this deployment, as etcd sends its cluster's id on every reply.</summary>
    internal const string ClusterId = "706c6174666f726d";

    private static Task WriteJson(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return WriteText(context, json);
    }

    private static Task WriteText(HttpContext context, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, 0, bytes.Length);
    }
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Access;

/// <summary>
/// Puts the etcd short path (<see cref="EtcdConnection"/>) behind access control: while the silo is open (no token)
/// connections go through it; once any token exists they go straight to Kestrel's HTTP layer, where
/// <see cref="AccessMiddleware"/> checks every request. Connections the short path holds when the silo stops being
/// open are closed, so that no unchecked connection outlives the first token; clients reconnect.
/// </summary>
internal static class EtcdShortPathGate
{
    private static readonly ConcurrentDictionary<string, ConnectionContext> s_shortPath = new(StringComparer.Ordinal);

    /// <summary>Installs the gate, the short path, and the marker of where the short path hands connections on.</summary>
    public static void Use(ListenOptions listen)
    {
        ConnectionDelegate? http = null;
        AccessControl? access = null;
        listen.Use(next => context =>
        {
            access ??= Subscribe(listen.ApplicationServices.GetRequiredService<AccessControl>());
            // Registered before the check: a close that runs between the two still finds it, or the check sees it.
            s_shortPath[context.ConnectionId] = context;
            if (!access.IsOpen)
            {
                s_shortPath.TryRemove(context.ConnectionId, out _);
                return http!(context);
            }
            return RunAsync(next, context);
        });
        EtcdConnection.Use(listen);
        listen.Use(next =>
        {
            http = next;
            return context =>
            {
                s_shortPath.TryRemove(context.ConnectionId, out _);
                return next(context);
            };
        });
    }

    private static AccessControl Subscribe(AccessControl access)
    {
        access.OnClosed(CloseShortPathConnections);
        return access;
    }

    private static async Task RunAsync(ConnectionDelegate next, ConnectionContext context)
    {
        try
        {
            await next(context);
        }
        finally
        {
            s_shortPath.TryRemove(context.ConnectionId, out _);
        }
    }

    private static void CloseShortPathConnections()
    {
        foreach (var (id, context) in s_shortPath)
        {
            if (s_shortPath.TryRemove(id, out _))
                context.Abort(new ConnectionAbortedException("access tokens now exist: the connection is closed so that its next request is checked"));
        }
    }
}

using System.Globalization;
using Platform.Protocol;
using Platform.Silo.Agents;
using Platform.Silo.Endpoints.Consul;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// Consul's blocking query (<c>?index=N&amp;wait=5m</c>) for answers made from the fleet: the answer is read again
/// whenever the silo's monitor has a line (a member or user event, a query, a check's new state), and returned once
/// its index differs from N or the wait ends.
/// </summary>
internal static class ConsulNodesWait
{
    /// <summary>Consul's longest wait (its agent's <c>maxQueryTime</c>), also the event list's default.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    /// <summary>Consul's default wait for catalog and health queries.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(5);

    /// <summary>Reads <c>index</c> and <c>wait</c>; null when they are valid, else Consul's 400 answer naming the parameter.</summary>
    public static IResult? Parse(HttpRequest request, TimeSpan defaultWait, out ulong index, out TimeSpan wait)
    {
        index = 0;
        wait = defaultWait;
        if (request.Query["index"].FirstOrDefault() is { Length: > 0 } indexText
            && !ulong.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out index))
            return ConsulNodesJson.Error(400, $"Invalid index: \"{indexText}\" is not a whole number such as the X-Consul-Index of an earlier answer");
        if (request.Query["wait"].FirstOrDefault() is { Length: > 0 } waitText)
        {
            if (!GoDuration.TryParse(waitText, out wait) || wait < TimeSpan.Zero)
                return ConsulNodesJson.Error(400, $"Invalid wait time: \"{waitText}\" is not a duration such as \"10s\", \"5m\" or \"300ms\"");
            if (wait == TimeSpan.Zero) wait = defaultWait;
        }
        if (wait > MaxWait) wait = MaxWait;
        return null;
    }

    /// <summary>
    /// Reads at once when <paramref name="index"/> is 0; otherwise waits, as above. Throws
    /// <see cref="OperationCanceledException"/> when the client goes away.
    /// </summary>
    public static async Task<(byte[] Json, ulong Index)> RunAsync(
        AgentHub hub, Func<Task<(byte[] Json, ulong Index)>> read, ulong index, TimeSpan wait, CancellationToken aborted)
    {
        if (index == 0) return await read();

        // Opened before the first read, so an event between that read and the wait still wakes it.
        using var events = hub.Monitor.Open();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(wait);
        while (true)
        {
            var answer = await read();
            if (answer.Index != index) return answer;
            try
            {
                if (!await events.Lines.WaitToReadAsync(timeout.Token)) return answer; // the silo is stopping
                while (events.Lines.TryRead(out _))
                {
                }
                timeout.Token.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                return await read();
            }
        }
    }
}

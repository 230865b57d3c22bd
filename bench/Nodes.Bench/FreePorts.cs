using System.Globalization;

namespace Platform.Nodes.Bench;

/// <summary>Free loopback TCP ports, all bound at once before any is released so that they differ.</summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = new List<System.Net.Sockets.TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return [.. listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    public static string Csv(IEnumerable<int> values) => string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}

using System.Text;

namespace Platform.Cli.Output;

/// <summary>How <c>serf query</c> shows a query's progress: text as it streams in, or JSON at the end.</summary>
public interface IQueryOutput
{
    /// <summary>The silo accepted the query.</summary>
    void Started();

    /// <summary>A node acknowledged it.</summary>
    void Ack(string from);

    /// <summary>A node responded.</summary>
    void Response(string from, ReadOnlySpan<byte> payload);

    /// <summary>The query is over.</summary>
    void Finished();
}

/// <summary><c>serf query</c>'s text: each line written as its ack or response arrives, totals at the end.</summary>
public sealed class QueryTextOutput(TextWriter output, string name, bool noAck) : IQueryOutput
{
    private int _acks;
    private int _responses;

    public void Started() => output.WriteLine($"Query '{name}' dispatched");

    public void Ack(string from)
    {
        _acks++;
        output.WriteLine($"Ack from '{from}'");
        output.Flush();
    }

    public void Response(string from, ReadOnlySpan<byte> payload)
    {
        _responses++;
        // Serf drops one trailing newline, so a handler's `echo` output reads as one line.
        if (payload.Length > 0 && payload[^1] == (byte)'\n') payload = payload[..^1];
        output.WriteLine($"Response from '{from}': {Encoding.UTF8.GetString(payload)}");
        output.Flush();
    }

    public void Finished()
    {
        if (!noAck) output.WriteLine($"Total Acks: {_acks}");
        output.WriteLine($"Total Responses: {_responses}");
    }
}

/// <summary><c>serf query -format json</c>: <c>{"Acks": [...], "Responses": {...}}</c> printed when the query is over.</summary>
public sealed class QueryJsonOutput(TextWriter output) : IQueryOutput
{
    private List<object?>? _acks;
    private readonly Dictionary<string, string> _responses = new(StringComparer.Ordinal);

    public void Started()
    {
    }

    public void Ack(string from) => (_acks ??= []).Add(from);

    public void Response(string from, ReadOnlySpan<byte> payload) => _responses[from] = Encoding.UTF8.GetString(payload);

    public void Finished() => output.WriteLine(GoJson.Indent(GoObject.Of(("Acks", _acks), ("Responses", _responses))).Trim());
}

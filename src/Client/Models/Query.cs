using System.Text.Json.Serialization;

namespace Platform.Client;

/// <summary>How a query is sent (<c>POST /v1/queries/{name}</c>): which nodes, how long to wait, whether nodes ack.</summary>
public sealed record QueryOptions
{
    /// <summary>Only these nodes (empty: every node).</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>Only nodes whose tags match every filter.</summary>
    public IReadOnlyList<TagFilter> Tags { get; init; } = [];

    /// <summary>How long the silo waits for responses; null for the silo's default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Whether nodes acknowledge the query before they respond (Serf's default: yes).</summary>
    public bool RequestAck { get; init; } = true;
}

/// <summary>One NDJSON line of a query's answer: an <c>ack</c>, a <c>response</c>, or the closing <c>done</c> with the totals.</summary>
public sealed record QueryMessage(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("from")] string? From = null,
    [property: JsonPropertyName("payload")] byte[]? Payload = null,
    [property: JsonPropertyName("acks")] int Acks = 0,
    [property: JsonPropertyName("responses")] int Responses = 0)
{
    /// <summary>Type of a node's acknowledgement.</summary>
    public const string Ack = "ack";

    /// <summary>Type of a node's response (<see cref="Payload"/> holds it).</summary>
    public const string Response = "response";

    /// <summary>Type of the last line: the query is over.</summary>
    public const string Done = "done";
}

namespace Platform.Agent.Handlers;

/// <summary>
/// One handler: which events it takes (<see cref="Event"/> is member-join … query or <c>*</c>; <see cref="Name"/>
/// narrows user events and queries by name) and the shell script it runs. Parsed as Serf parses <c>filter=script</c>.
/// </summary>
public sealed record EventScript(string Event, string Name, string Script)
{
    /// <summary>The event types a filter may name.</summary>
    public static readonly IReadOnlyList<string> EventTypes =
        ["member-join", "member-leave", "member-failed", "member-update", "member-reap", "user", "query", "*"];

    /// <summary>
    /// Parses <c>script</c>, <c>type[,type…]=script</c>, <c>user:NAME=script</c> or <c>query:NAME=script</c> into one
    /// handler per filter; throws <see cref="FormatException"/> naming the entry when a type is unknown.
    /// </summary>
    public static IReadOnlyList<EventScript> Parse(string entry)
    {
        // Serf splits on the first '=' only: the script may hold '='.
        var equals = entry.IndexOf('=');
        var filter = equals < 0 ? "" : entry[..equals];
        var script = equals < 0 ? entry : entry[(equals + 1)..];
        if (script.Length == 0)
            throw new FormatException($"event handler '{entry}': the script is empty; expected 'filter=script' or 'script'");
        if (filter.Length == 0) filter = "*";
        var result = new List<EventScript>();
        foreach (var part in filter.Split(','))
        {
            var type = part;
            var name = "";
            if (part.StartsWith("user:", StringComparison.Ordinal)) { type = "user"; name = part["user:".Length..]; }
            else if (part.StartsWith("query:", StringComparison.Ordinal)) { type = "query"; name = part["query:".Length..]; }
            if (!EventTypes.Contains(type))
                throw new FormatException(
                    $"event handler '{entry}': unknown event type '{part}'; expected member-join, member-leave, member-failed, member-update, member-reap, user, user:NAME, query, query:NAME or *");
            result.Add(new EventScript(type, name, script));
        }
        return result;
    }

    /// <summary>Serf's rule: <c>*</c> takes everything; else the type must match and, for user events and queries, the name when one is given.</summary>
    /// <summary>Whether this handler runs for some member event (<c>member-…</c> or <c>*</c>).</summary>
    public bool TakesMemberEvents => Event == "*" || Event.StartsWith("member-", StringComparison.Ordinal);

    public bool Accepts(HandlerEvent e)
    {
        if (Event == "*") return true;
        if (Event != e.Type) return false;
        if (Name.Length == 0) return true;
        return e switch
        {
            UserHandlerEvent user => Event == "user" && user.Name == Name,
            QueryHandlerEvent query => Event == "query" && query.Name == Name,
            _ => true,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Name.Length > 0 ? $"{Event}:{Name}={Script}" : $"{Event}={Script}";
}

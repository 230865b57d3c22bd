using System.Globalization;
using System.Text;
using Platform.Protocol;

namespace Platform.Agent.Handlers;

/// <summary>What a handler gets, byte for byte as Serf's agent gives it: its environment and its standard input.</summary>
public static class HandlerInput
{
    /// <summary>
    /// <c>SERF_EVENT</c>, <c>SERF_SELF_NAME</c>, <c>SERF_SELF_ROLE</c>, <c>SERF_TAG_*</c> and the user event's or query's
    /// name and ltime (the process's own environment is inherited besides).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Environment(HandlerEvent e, string selfName, IReadOnlyDictionary<string, string> selfTags)
    {
        var env = new List<KeyValuePair<string, string>>(8 + selfTags.Count)
        {
            new("SERF_EVENT", e.Type),
            new("SERF_SELF_NAME", selfName),
            new("SERF_SELF_ROLE", selfTags.TryGetValue("role", out var role) ? role : ""),
        };
        foreach (var (name, value) in selfTags) env.Add(new("SERF_TAG_" + TagVariable(name), value));
        switch (e)
        {
            case UserHandlerEvent user:
                env.Add(new("SERF_USER_EVENT", user.Name));
                env.Add(new("SERF_USER_LTIME", user.LTime.ToString(CultureInfo.InvariantCulture)));
                break;
            case QueryHandlerEvent query:
                env.Add(new("SERF_QUERY_NAME", query.Name));
                env.Add(new("SERF_QUERY_LTIME", query.LTime.ToString(CultureInfo.InvariantCulture)));
                break;
        }
        return env;
    }

    /// <summary>A tag's variable suffix: upper-cased, every character outside [A-Z0-9_] replaced by '_' (Serf's rule).</summary>
    public static string TagVariable(string tagName)
    {
        var upper = tagName.ToUpperInvariant();
        return string.Create(upper.Length, upper, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' ? c : '_';
            }
        });
    }

    /// <summary>
    /// Member events: one line per member, <c>name\taddr\trole\ttags</c> with tags as <c>k=v,k=v</c> and tabs and
    /// newlines in name, role and tags written as <c>\t</c> and <c>\n</c>. User events and queries: the payload with a
    /// newline added when it lacks one (nothing when it is empty).
    /// </summary>
    public static byte[] Stdin(HandlerEvent e)
    {
        switch (e)
        {
            case MemberHandlerEvent member:
                var text = new StringBuilder();
                foreach (var m in member.Members) AppendMemberLine(text, m);
                return Encoding.UTF8.GetBytes(text.ToString());
            case UserHandlerEvent user:
                return WithNewline(user.Payload);
            case QueryHandlerEvent query:
                return WithNewline(query.Payload);
            default:
                return [];
        }
    }

    private static void AppendMemberLine(StringBuilder text, MemberInfo m)
    {
        text.Append(Clean(m.Name)).Append('\t');
        text.Append(AddressOnly(m.Addr)).Append('\t');
        text.Append(Clean(m.Tags.TryGetValue("role", out var role) ? role : "")).Append('\t');
        var tags = new StringBuilder();
        var first = true;
        foreach (var (key, value) in m.Tags)
        {
            if (!first) tags.Append(',');
            tags.Append(key).Append('=').Append(value);
            first = false;
        }
        text.Append(Clean(tags.ToString())).Append('\n');
    }

    /// <summary>Serf writes the member's IP alone; a silo may send <c>ip:port</c>, so a port is cut off.</summary>
    private static string AddressOnly(string addr)
    {
        if (addr.StartsWith('[') && addr.IndexOf(']') is var close and > 0) return addr[1..close];
        var colon = addr.IndexOf(':');
        return colon > 0 && colon == addr.LastIndexOf(':') ? addr[..colon] : addr;
    }

    private static string Clean(string value) => value.Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static byte[] WithNewline(byte[] payload)
    {
        if (payload.Length == 0 || payload[^1] == (byte)'\n') return payload;
        var result = new byte[payload.Length + 1];
        payload.CopyTo(result, 0);
        result[^1] = (byte)'\n';
        return result;
    }
}

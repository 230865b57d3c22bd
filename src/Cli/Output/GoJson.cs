using System.Globalization;
using System.Text;

namespace Platform.Cli.Output;

/// <summary>
/// JSON as Go's <c>json.MarshalIndent(v, "", "  ")</c> writes it, which is what <c>serf ... -format json</c> prints:
/// struct fields in declaration order (<see cref="GoObject"/>), map keys sorted, &lt; &gt; &amp; escaped, nil as null.
/// </summary>
public static class GoJson
{
    /// <summary>Indented JSON for a tree of <see cref="GoObject"/>, string maps, lists, strings, numbers, bools and null.</summary>
    public static string Indent(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case int or long or uint or ulong or byte:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case GoObject o:
                WriteMembers(sb, o.Fields, depth);
                break;
            case IReadOnlyDictionary<string, string> map:
                WriteMembers(sb, map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, object?>(kv.Key, kv.Value)).ToList(), depth);
                break;
            case IEnumerable<object?> list:
                WriteList(sb, list.ToList(), depth);
                break;
            default:
                throw new ArgumentException($"no Go JSON form for {value.GetType().Name}", nameof(value));
        }
    }

    private static void WriteMembers(StringBuilder sb, IReadOnlyList<KeyValuePair<string, object?>> fields, int depth)
    {
        if (fields.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        sb.Append('{');
        for (var i = 0; i < fields.Count; i++)
        {
            sb.Append(i == 0 ? "\n" : ",\n");
            sb.Append(' ', (depth + 1) * 2);
            WriteString(sb, fields[i].Key);
            sb.Append(": ");
            Write(sb, fields[i].Value, depth + 1);
        }
        sb.Append('\n').Append(' ', depth * 2).Append('}');
    }

    private static void WriteList(StringBuilder sb, IReadOnlyList<object?> items, int depth)
    {
        if (items.Count == 0)
        {
            sb.Append("[]");
            return;
        }
        sb.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(i == 0 ? "\n" : ",\n");
            sb.Append(' ', (depth + 1) * 2);
            Write(sb, items[i], depth + 1);
        }
        sb.Append('\n').Append(' ', depth * 2).Append(']');
    }

    /// <summary>A JSON string with Go's escaping (HTML-safe; other non-ASCII text left as is).</summary>
    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }
}

/// <summary>A Go struct for <see cref="GoJson"/>: fields written in the order given.</summary>
public sealed record GoObject(IReadOnlyList<KeyValuePair<string, object?>> Fields)
{
    /// <summary>A struct from (name, value) pairs in declaration order.</summary>
    public static GoObject Of(params (string Name, object? Value)[] fields)
        => new([.. fields.Select(f => new KeyValuePair<string, object?>(f.Name, f.Value))]);
}

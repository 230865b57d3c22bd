using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>
/// Expands the template actions Stretcher allows in a manifest before it is parsed as YAML: <c>{{ env "A" "B" … "default" }}</c>
/// (the first of the named variables that is set and not empty, else the last argument as written) and
/// <c>{{ must_env "X" }}</c> (X's value, which may be empty; an error when X is not defined). Strings are Go's: "…" with
/// escapes or `…` raw. <c>{{-</c> and <c>-}}</c> trim the white space beside them, as in Go templates.
/// </summary>
public static class ManifestTemplate
{
    /// <summary>Expands <paramref name="text"/> with <paramref name="environment"/> (null: not defined).</summary>
    public static string Expand(string text, Func<string, string?> environment)
    {
        if (!text.Contains("{{", StringComparison.Ordinal)) return text;
        var output = new StringBuilder(text.Length);
        var position = 0;
        while (true)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                output.Append(text, position, text.Length - position);
                return output.ToString();
            }
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            var line = LineOf(text, open);
            if (close < 0) throw new DeployException($"manifest line {line}: template action '{{{{' is never closed by '}}}}'");
            var action = text[(open + 2)..close];
            var literal = text[position..open];
            if (action.StartsWith("- ", StringComparison.Ordinal) || action == "-")
            {
                literal = literal.TrimEnd();
                action = action[1..];
            }
            output.Append(literal);
            position = close + 2;
            if (action.EndsWith(" -", StringComparison.Ordinal))
            {
                action = action[..^2];
                while (position < text.Length && char.IsWhiteSpace(text[position])) position++;
            }
            output.Append(Evaluate(action, line, environment));
        }
    }

    private static string Evaluate(string action, int line, Func<string, string?> environment)
    {
        var words = Words(action, line);
        if (words.Count == 0) throw new DeployException($"manifest line {line}: empty template action '{{{{{action}}}}}'");
        var function = words[0];
        var args = words.GetRange(1, words.Count - 1);
        if (function.Quoted) throw new DeployException($"manifest line {line}: template action '{{{{{action}}}}}' must start with env or must_env");
        switch (function.Text)
        {
            case "env":
                if (args.Count == 0) throw new DeployException($"manifest line {line}: env needs at least one variable name, as in {{{{ env \"NAME\" \"default\" }}}}");
                foreach (var arg in args)
                {
                    RequireString(arg, "env", line);
                    if (environment(arg.Text) is { Length: > 0 } value) return value;
                }
                return args[^1].Text;
            case "must_env":
                if (args.Count != 1) throw new DeployException($"manifest line {line}: must_env takes exactly one variable name, as in {{{{ must_env \"NAME\" }}}}");
                RequireString(args[0], "must_env", line);
                return environment(args[0].Text) ?? throw new DeployException($"manifest line {line}: environment variable {args[0].Text} is not defined (must_env)");
            default:
                throw new DeployException($"manifest line {line}: unknown template function '{function.Text}'; a manifest may use env and must_env");
        }
    }

    private static void RequireString(Word word, string function, int line)
    {
        if (!word.Quoted) throw new DeployException($"manifest line {line}: {function} takes quoted strings, got '{word.Text}'");
    }

    private readonly record struct Word(string Text, bool Quoted);

    private static List<Word> Words(string action, int line)
    {
        var words = new List<Word>();
        var i = 0;
        while (i < action.Length)
        {
            var c = action[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '`')
            {
                var end = action.IndexOf('`', i + 1);
                if (end < 0) throw new DeployException($"manifest line {line}: unterminated raw string in template action '{{{{{action}}}}}'");
                words.Add(new Word(action[(i + 1)..end], true));
                i = end + 1;
            }
            else if (c == '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= action.Length) throw new DeployException($"manifest line {line}: unterminated string in template action '{{{{{action}}}}}'");
                    var d = action[i++];
                    if (d == '"') break;
                    if (d != '\\')
                    {
                        text.Append(d);
                        continue;
                    }
                    if (i >= action.Length) throw new DeployException($"manifest line {line}: unterminated string in template action '{{{{{action}}}}}'");
                    var escaped = action[i++];
                    text.Append(escaped switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' or '"' => escaped,
                        _ => throw new DeployException($"manifest line {line}: unknown escape '\\{escaped}' in template action '{{{{{action}}}}}'"),
                    });
                }
                words.Add(new Word(text.ToString(), true));
            }
            else
            {
                var start = i;
                while (i < action.Length && !char.IsWhiteSpace(action[i]) && action[i] is not '"' and not '`') i++;
                words.Add(new Word(action[start..i], false));
            }
        }
        return words;
    }

    private static int LineOf(string text, int index)
    {
        var line = 1;
        for (var i = 0; i < index; i++)
            if (text[i] == '\n') line++;
        return line;
    }
}

namespace Platform.Agent.Deploy;

/// <summary>
/// Checks a manifest before it is sent to nodes, refusing only what would fail on every node: each node expands the
/// templates with its own environment, so a manifest that holds any is checked for its template syntax alone (any
/// expansion could change its YAML), and one without is parsed as the node will parse it.
/// </summary>
public static class ManifestCheck
{
    /// <summary>Why <paramref name="text"/> cannot run on any node (the parser's message, with line and column where it gives them); null when it may.</summary>
    public static string? Problem(string text)
    {
        try
        {
            if (text.Contains("{{", StringComparison.Ordinal))
            {
                // Every variable defined (empty): must_env cannot fail, only a malformed or unknown action can.
                ManifestTemplate.Expand(text, _ => "");
                return null;
            }
            ManifestParser.Parse(text, _ => null);
            return null;
        }
        catch (DeployException e)
        {
            return e.Message;
        }
    }
}

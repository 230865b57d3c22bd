using System.CommandLine.Parsing;
using System.CommandLine;
using Platform.Client;
using Platform.Protocol;

namespace Platform.Cli;

/// <summary>
/// The options commands share, each under Serf's single-dash spelling (<c>-node</c>) and the double-dash one (<c>--node</c>).
/// Values are checked while parsing, so bad input is a usage error before any silo is called.
/// </summary>
public static class CliOptions
{
    /// <summary><c>--url URL</c>, repeatable, on every command: the silos to try in order.</summary>
    public static Option<string[]> Url() => new("--url", "-url")
    {
        Description = $"A silo's URL; repeat for failover (default: ${PlatformClientOptions.UrlEnvironmentVariable}, comma-separated, else {PlatformClient.DefaultUrl})",
        Arity = ArgumentArity.ZeroOrMore,
        Recursive = true,
        HelpName = "URL",
    };

    /// <summary><c>--token SECRET</c> on every command: the access token to send (default: <c>$PLATFORM_TOKEN</c>).</summary>
    public static Option<string> Token() => new("--token", "-token")
    {
        Description = $"The access token to send (default: ${PlatformClientOptions.TokenEnvironmentVariable})",
        Recursive = true,
        HelpName = "token",
    };

    /// <summary><c>-format text|json</c>.</summary>
    public static Option<string> Format()
    {
        var option = new Option<string>("--format", "-format")
        {
            Description = "Output format: text or json",
            DefaultValueFactory = _ => "text",
            HelpName = "text|json",
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    /// <summary><c>-tag key=regexp</c>, repeatable; each must have a key and a regexp that compiles.</summary>
    public static Option<TagFilter[]> TagFilters(string description) => new("--tag", "-tag")
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrMore,
        HelpName = "key=regexp",
        CustomParser = result =>
        {
            var filters = new List<TagFilter>(result.Tokens.Count);
            foreach (var token in result.Tokens)
            {
                try
                {
                    filters.Add(TagFilter.Parse(token.Value));
                }
                catch (FormatException e)
                {
                    result.AddError(e.Message);
                }
            }
            return [.. filters];
        },
    };

    /// <summary>An option holding a regexp that must compile.</summary>
    public static Option<string> Regexp(string name, string alias, string description)
    {
        var option = new Option<string>(name, alias) { Description = description, HelpName = "regexp" };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is null) return;
            try
            {
                TagFilter.CheckRegex(value, $"{alias} '{value}'");
            }
            catch (FormatException e)
            {
                result.AddError(e.Message);
            }
        });
        return option;
    }

    /// <summary><c>-timeout</c> as a Go duration (<c>15s</c>, <c>1m30s</c>, <c>500ms</c>).</summary>
    public static Option<TimeSpan?> Timeout(string description) => new("--timeout", "-timeout")
    {
        Description = description,
        HelpName = "duration",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!GoDuration.TryParse(text, out var duration) || duration < TimeSpan.Zero)
            {
                result.AddError($"-timeout '{text}' is not a duration; expected a number with a unit, such as 15s, 1m30s or 500ms");
                return null;
            }
            return duration == TimeSpan.Zero ? null : duration;
        },
    };

    /// <summary><c>-node NAME</c> defaulting to this machine's host name.</summary>
    public static Option<string> Node(CliContext context, string description) => new("--node", "-node")
    {
        Description = description,
        DefaultValueFactory = _ => context.HostName,
        HelpName = "name",
    };
}

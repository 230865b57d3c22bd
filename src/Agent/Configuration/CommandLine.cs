using Platform.Protocol;
namespace Platform.Agent.Configuration;

/// <summary>What <c>platform agent</c>'s flags say: the flags' own settings and the config paths in the order given.</summary>
public sealed record CommandLine(AgentConfig Flags, IReadOnlyList<(string Path, bool IsDirectory)> ConfigPaths, bool Help)
{
    /// <summary>One line per flag, for <c>-help</c> and usage errors.</summary>
    public const string Usage = """
        usage: platform agent [options]
          -server URL             a silo's base URL (repeatable; tried in order)
          -config-file FILE       a JSON configuration file (repeatable)
          -config-dir DIR         every *.json of DIR in lexical order (repeatable)
          -node NAME              the node's name (default: the host name)
          -role ROLE              the node's role tag
          -tag KEY=VALUE          a tag (repeatable)
          -tags-file FILE         tags persisted there and read back on start
          -event-handler [FILTER=]SCRIPT   a handler (repeatable)
          -bind ADDR[:PORT]       the node's address and port (default 0.0.0.0:7946)
          -advertise ADDR[:PORT]  the address reported to the silo
          -log-level LEVEL        trace, debug, info, warn or err
          -protocol N             the Serf protocol version reported
          -snapshot FILE          Serf's snapshot path (its folder is the default data dir)
          -data-dir DIR           where the last applied user event is kept
          -handler-timeout DUR    kill a handler after this long (e.g. 30s; default none)
          -handler-concurrency N  handlers run at once (default 1)
          -token TOKEN            the access token (scope agent) sent to the silo (default $PLATFORM_TOKEN)
        """;

    /// <summary>Parses Go-style flags (<c>-flag value</c>, <c>-flag=value</c>, <c>--flag</c>); throws <see cref="ConfigException"/> on a bad one.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var flags = new AgentConfig();
        var paths = new List<(string, bool)>();
        var help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.Length < 2 || arg[0] != '-')
                throw new ConfigException($"argument '{arg}': expected a flag such as -server URL (see -help)");
            var name = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg[1..];
            string? inline = null;
            var equals = name.IndexOf('=');
            if (equals >= 0) { inline = name[(equals + 1)..]; name = name[..equals]; }

            if (name is "h" or "help") { help = true; continue; }

            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new ConfigException($"flag -{name}: needs a value (see -help)");
                return args[++i];
            }

            // A flag wins over the files, so an error in its value names the flag (a key ending in ':' is a list entry's).
            string Sourced(string key, string value)
            {
                flags.Sources[key.EndsWith(':') ? key + value : key] = $"flag -{name}";
                return value;
            }

            switch (name)
            {
                case "server": flags.Servers.Add(Sourced("servers:", Value())); break;
                case "config-file": paths.Add((Value(), false)); break;
                case "config-dir": paths.Add((Value(), true)); break;
                case "node": flags.NodeName = Value(); break;
                case "role": flags.Role = Sourced("role", Value()); break;
                case "tag":
                    var tag = Value();
                    var split = tag.IndexOf('=');
                    if (split <= 0) throw new ConfigException($"flag -tag '{tag}': expected KEY=VALUE");
                    flags.Tags[tag[..split]] = tag[(split + 1)..];
                    break;
                case "tags-file": flags.TagsFile = Sourced("tags_file", Value()); break;
                case "event-handler": flags.EventHandlers.Add(Sourced("event_handlers:", Value())); break;
                case "bind": flags.Bind = Sourced("bind", Value()); break;
                case "advertise": flags.Advertise = Sourced("advertise", Value()); break;
                case "log-level": flags.LogLevel = Sourced("log_level", Value()); break;
                case "snapshot": flags.SnapshotPath = Value(); break;
                case "data-dir": flags.DataDir = Value(); break;
                case "token": flags.Token = Value(); break;
                case "protocol": flags.Protocol = Int(name, Value()); break;
                case "handler-concurrency":
                    flags.HandlerConcurrency = Int(name, Value());
                    flags.Sources["handler_concurrency"] = $"flag -{name}";
                    break;
                case "handler-timeout":
                    var text = Value();
                    flags.HandlerTimeout = GoDuration.TryParse(text, out var timeout) && timeout >= TimeSpan.Zero
                        ? timeout
                        : throw new ConfigException($"flag -handler-timeout '{text}': expected a duration such as 30s or 2m");
                    break;
                default:
                    throw new ConfigException($"flag -{name}: unknown flag (see -help)");
            }
        }
        return new CommandLine(flags, paths, help);
    }

    private static int Int(string flag, string text)
        => int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ConfigException($"flag -{flag} '{text}': expected an integer");
}

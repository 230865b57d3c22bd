using System.Globalization;

namespace Platform.Agent.Deploy;

/// <summary><c>platform stretch</c>'s flags: Stretcher's own (Go-style, <c>-flag value</c> or <c>-flag=value</c>) plus the state file and S3 endpoint.</summary>
public sealed record StretchCommandLine(StretchOptions Options, string? StateFile, IReadOnlyList<string> AllowedUrls, bool Help, bool Version)
{
    /// <summary>One line per flag, for <c>-help</c> and usage errors.</summary>
    public const string Usage = """
        usage: platform stretch [options] < URL-or-Consul-event-JSON
          -random-delay SECONDS   sleep [0, SECONDS) before starting (fractions allowed)
          -retry N                retry a failed download N times
          -retry-wait SECONDS     wait between download retries (default 3)
          -timeout SECONDS        give up the download after this long (default 0: never)
          -max-bandwidth SIZE     limit the download and the rsync copy, bytes/sec (e.g. 1048576, 10M, 10MiB)
          -rsync-verbose OPTION   rsync's verbosity option (default -v; '' for none)
          -state-file FILE        where the last applied event is kept (default $PLATFORM_STRETCH_STATE, else
                                  /var/lib/platform/stretch-state.json as root, ~/.local/state/platform/stretch-state.json otherwise)
          -allow-url PREFIX       deploy only manifest URLs that start with PREFIX (repeatable; default: any)
          -s3-endpoint URL        an S3-compatible endpoint for s3:// sources (default $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)
          -s3-force-path-style    address buckets as ENDPOINT/BUCKET (the default with an endpoint; =false to turn off)
          -v, -version            print the version
        """;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="DeployException"/> naming the bad flag.</summary>
    public static StretchCommandLine Parse(IReadOnlyList<string> args)
    {
        var options = new StretchOptions();
        string? stateFile = null;
        var allowed = new List<string>();
        var help = false;
        var version = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.Length < 2 || arg[0] != '-')
                throw new DeployException($"argument '{arg}': expected a flag such as -retry 3; the manifest URL comes on standard input (see -help)");
            var name = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg[1..];
            string? inline = null;
            var equals = name.IndexOf('=');
            if (equals >= 0) { inline = name[(equals + 1)..]; name = name[..equals]; }

            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new DeployException($"flag -{name}: needs a value (see -help)");
                return args[++i];
            }

            int Count(string what)
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 0
                    ? n
                    : throw new DeployException($"flag -{name}: expected {what} (a whole number, 0 or more), got '{text}'");
            }

            switch (name)
            {
                case "h" or "help": help = true; break;
                case "v" or "version": version = true; break;
                case "random-delay":
                    var delay = Value();
                    if (!double.TryParse(delay, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                        throw new DeployException($"flag -random-delay: expected seconds (such as 30 or 2.5), got '{delay}'");
                    options = options with { RandomDelay = TimeSpan.FromSeconds(seconds) };
                    break;
                case "retry": options = options with { Retry = Count("a retry count") }; break;
                case "retry-wait": options = options with { RetryWait = TimeSpan.FromSeconds(Count("seconds")) }; break;
                case "timeout":
                    var timeout = Count("seconds");
                    options = options with { Timeout = timeout == 0 ? null : TimeSpan.FromSeconds(timeout) };
                    break;
                case "max-bandwidth":
                    var size = Value();
                    if (size.Length == 0) { options = options with { MaxBandwidth = null }; break; }
                    if (!ByteSize.TryParse(size, out var bytes) || bytes <= 0)
                        throw new DeployException($"flag -max-bandwidth: expected bytes per second (such as 1048576, 10M or 10MiB), got '{size}'");
                    options = options with { MaxBandwidth = bytes };
                    break;
                case "rsync-verbose": options = options with { RsyncVerbose = Value() }; break;
                case "state-file": stateFile = Value(); break;
                case "allow-url":
                    var prefix = Value();
                    if (!Uri.TryCreate(prefix, UriKind.Absolute, out var allowedUri)) throw new DeployException($"flag -allow-url: expected the start of a URL such as https://artifacts.example.com/app/, got '{prefix}'");
                    // A bare host must not also allow https://artifacts.example.com.attacker.net/.
                    allowed.Add(allowedUri.Authority.Length > 0 && allowedUri.AbsolutePath == "/" && !prefix.EndsWith('/') ? prefix + "/" : prefix);
                    break;
                case "s3-endpoint":
                    var endpoint = Value();
                    if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                        throw new DeployException($"flag -s3-endpoint: expected an http(s) URL, got '{endpoint}'");
                    options = options with { S3 = options.S3 with { Endpoint = uri } };
                    break;
                case "s3-force-path-style":
                    var style = inline ?? "true";
                    if (!bool.TryParse(style, out var pathStyle)) throw new DeployException($"flag -s3-force-path-style: expected true or false, got '{style}'");
                    options = options with { S3 = options.S3 with { ForcePathStyle = pathStyle } };
                    break;
                default:
                    throw new DeployException($"flag provided but not defined: -{name} (see -help)");
            }
        }
        return new StretchCommandLine(options, stateFile, allowed, help, version);
    }
}

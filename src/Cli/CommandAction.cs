using System.CommandLine;
using System.Text.Json;
using Platform.Client;

namespace Platform.Cli;

/// <summary>
/// Runs a command's body and turns failures into Serf-style messages and the documented exit codes:
/// 1 for an error from a silo or no silo reachable, 2 for a usage error.
/// </summary>
public static class CommandAction
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for an error from a silo, or no silo reachable.</summary>
    public const int Failed = 1;

    /// <summary>Exit code for a command line that is not valid.</summary>
    public const int Usage = 2;

    /// <summary>Wraps <paramref name="body"/>; <paramref name="failure"/> starts the message of an error, as Serf's (<c>Error sending event</c>).</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(CliContext context, string failure, Func<ParseResult, CancellationToken, Task<int>> body)
        => async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                await context.Error.WriteLineAsync($"Error: {e.Message}").ConfigureAwait(false);
                return Usage;
            }
            catch (SiloUnreachableException e)
            {
                await context.Error.WriteLineAsync($"Error connecting to silo: {e.Message} (silos from --url or ${PlatformClientOptions.UrlEnvironmentVariable})").ConfigureAwait(false);
                return Failed;
            }
            catch (PlatformApiException e)
            {
                await context.Error.WriteLineAsync($"{failure}: {e.Message} (HTTP {(int)e.Status} from {e.Silo})").ConfigureAwait(false);
                return Failed;
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                await context.Error.WriteLineAsync($"{failure}: {DescribeTransportFailure(context, e)}").ConfigureAwait(false);
                return Failed;
            }
            catch (JsonException e)
            {
                await context.Error.WriteLineAsync($"{failure}: the silo's answer was not the expected JSON: {e.Message}").ConfigureAwait(false);
                return Failed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync($"{failure}: interrupted").ConfigureAwait(false);
                return Failed;
            }
        };

    /// <summary>Why the connection failed; a refused silo certificate says why, and one no CA of this machine signs, which variable names the CA.</summary>
    private static string DescribeTransportFailure(CliContext context, Exception e)
    {
        var certificate = Platform.Client.Tls.TlsClientSettings.DescribeFailure(e);
        if (certificate is null) return e.Message;
        return context.Tls?.CaFile is null && certificate.EndsWith("give the silo's CA file", StringComparison.Ordinal)
            ? $"{certificate} in {CliContext.CaFileVariable}"
            : certificate;
    }
}

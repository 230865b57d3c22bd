using System.Net.Sockets;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;

namespace Platform.Client;

/// <summary>
/// Sends each request to one silo of the list and fails over to the next (a Polly retry, one attempt per silo).
/// A request that never reached a silo (refused, connect timeout, unknown host) always fails over; one that may have
/// reached it fails over only when it is idempotent, so a user event or a query is never run twice.
/// </summary>
internal sealed class SiloFailoverHandler : DelegatingHandler
{
    /// <summary>Marks a request as safe to repeat on another silo after it may have reached one (default: every method but POST).</summary>
    internal static readonly HttpRequestOptionsKey<bool> Idempotent = new("platform.idempotent");

    private static readonly ResiliencePropertyKey<Attempts> s_attempts = new("platform.silo-attempts");

    private readonly IReadOnlyList<Uri> _silos;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private int _preferred; // the silo that answered last: later requests start there

    public SiloFailoverHandler(IReadOnlyList<Uri> silos, HttpMessageHandler inner)
        : base(inner)
    {
        if (silos.Count == 0) throw new ArgumentException("at least one silo URL is needed", nameof(silos));
        _silos = silos;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (silos.Count > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = silos.Count - 1,
                Delay = TimeSpan.Zero,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(
                    ShouldFailOver(args.Outcome, args.Context.Properties.GetValue(s_attempts, null!).Idempotent)),
            });
        }
        _pipeline = builder.Build();
    }

    /// <summary>True when the exception says the request never reached the silo, so sending it elsewhere cannot run it twice.</summary>
    internal static bool NeverReachedSilo(Exception? exception)
    {
        if (exception is not HttpRequestException http) return false;
        if (http.HttpRequestError == HttpRequestError.NameResolutionError) return true;
        if (http.HttpRequestError != HttpRequestError.ConnectionError) return false;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable
                    or SocketError.NetworkUnreachable or SocketError.HostNotFound or SocketError.HostDown or SocketError.NetworkDown
                    or SocketError.AddressNotAvailable or SocketError.TryAgain;
            }
        }
        return false;
    }

    internal static bool ShouldFailOver(Outcome<HttpResponseMessage> outcome, bool idempotent)
    {
        if (NeverReachedSilo(outcome.Exception)) return true;
        // A repeatable request also moves on from a silo that reset it or answered 5xx, 408 or 429 (stopping, overloaded).
        return idempotent && HttpClientResiliencePredicates.IsTransient(outcome);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var idempotent = request.Options.TryGetValue(Idempotent, out var marked) ? marked : request.Method != HttpMethod.Post;
        var attempts = new Attempts(request, RelativePath(_silos[0], request.RequestUri!), idempotent, Volatile.Read(ref _preferred));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(s_attempts, attempts);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, self) => await self.SendToNextSiloAsync(ctx.Properties.GetValue(s_attempts, null!), ctx.CancellationToken).ConfigureAwait(false),
                context,
                this).ConfigureAwait(false);
            // When no silo was reached, say which were tried; a request cut off by a silo keeps its own error.
            if (NeverReachedSilo(outcome.Exception))
                throw new SiloUnreachableException(attempts.Failures, outcome.Exception);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Outcome<HttpResponseMessage>> SendToNextSiloAsync(Attempts attempts, CancellationToken cancellationToken)
    {
        var index = (attempts.Start + attempts.Count++) % _silos.Count;
        var silo = _silos[index];
        attempts.Request.RequestUri = Rebase(silo, attempts.PathAndQuery);
        try
        {
            var response = await base.SendAsync(attempts.Request, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _preferred, index);
            if ((int)response.StatusCode >= 500) attempts.Failures.Add(new SiloAttempt(silo, $"HTTP {(int)response.StatusCode}"));
            return Outcome.FromResult(response);
        }
        catch (HttpRequestException e)
        {
            attempts.Failures.Add(new SiloAttempt(silo, Describe(e)));
            return Outcome.FromException<HttpResponseMessage>(e);
        }
    }

    /// <summary>The request's path and query below the first silo's URL (the client's base address; a silo URL may carry a base path).</summary>
    internal static string RelativePath(Uri firstSilo, Uri request)
    {
        if (!request.IsAbsoluteUri) return request.OriginalString.StartsWith('/') ? request.OriginalString : "/" + request.OriginalString;
        var basePath = firstSilo.AbsolutePath.TrimEnd('/');
        var pathAndQuery = request.PathAndQuery;
        return basePath.Length > 0 && pathAndQuery.StartsWith(basePath + "/", StringComparison.Ordinal) ? pathAndQuery[basePath.Length..] : pathAndQuery;
    }

    /// <summary>The same path and query on <paramref name="silo"/>.</summary>
    internal static Uri Rebase(Uri silo, string pathAndQuery)
        => new(silo.GetLeftPart(UriPartial.Authority) + silo.AbsolutePath.TrimEnd('/') + pathAndQuery);

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.TimedOut => "connect timed out",
                    SocketError.HostNotFound or SocketError.TryAgain => "host not found",
                    _ => socket.Message,
                };
            }
        }
        return e.Message;
    }

    /// <summary>The state of one request's tries: where it started, how many silos were tried, what failed.</summary>
    private sealed class Attempts(HttpRequestMessage request, string pathAndQuery, bool idempotent, int start)
    {
        public HttpRequestMessage Request { get; } = request;
        public string PathAndQuery { get; } = pathAndQuery;
        public bool Idempotent { get; } = idempotent;
        public int Start { get; } = start;
        public int Count { get; set; }
        public List<SiloAttempt> Failures { get; } = [];
    }
}

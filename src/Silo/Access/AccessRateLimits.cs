using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;

namespace Platform.Silo.Access;

/// <summary>
/// Token buckets on writes (every request but GET and HEAD: key writes, events, queries, hooks): one per token and one
/// per client address. A refusal is a 429 with <c>Retry-After</c>, counted with the access refusals. Loopback clients
/// are left out of the per-address bucket unless <see cref="RateLimitOptions.LimitLoopback"/>, except on push hooks:
/// they carry no token, so the address is their only limit, and a reverse proxy on this machine makes every sender loopback.
/// </summary>
public static class AccessRateLimits
{
    public static IServiceCollection AddAccessRateLimits(this IServiceCollection services, RateLimitOptions options)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(PerToken(options), PerAddress(options));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                context.RequestServices.GetRequiredService<AccessControl>().CountRateLimited();
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsJsonAsync(new { error = $"too many writes from {(AccessMiddleware.HasToken(context) ? $"token '{AccessMiddleware.ActorOf(context)}'" : $"address {context.Connection.RemoteIpAddress}")}; retry after {seconds} s" }, cancellationToken);
            };
        });
        return services;
    }

    private static bool IsHook(HttpContext context) => context.Request.Path.StartsWithSegments("/hooks", StringComparison.Ordinal);

    private static bool IsWrite(HttpContext context) => !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    private static PartitionedRateLimiter<HttpContext> PerToken(RateLimitOptions options) => PartitionedRateLimiter.Create<HttpContext, string>(context =>
        options.PerToken > 0 && IsWrite(context) && AccessMiddleware.HasToken(context)
            ? RateLimitPartition.GetTokenBucketLimiter("token:" + AccessMiddleware.ActorOf(context), _ => Bucket(options.PerToken, options.PerTokenBurst, options.Period))
            : RateLimitPartition.GetNoLimiter(""));

    private static PartitionedRateLimiter<HttpContext> PerAddress(RateLimitOptions options) => PartitionedRateLimiter.Create<HttpContext, string>(context =>
    {
        var address = context.Connection.RemoteIpAddress;
        if (!IsWrite(context) || !CountsAddress(options, address, IsHook(context))) return RateLimitPartition.GetNoLimiter("");
        return RateLimitPartition.GetTokenBucketLimiter("address:" + address, _ => Bucket(options.PerAddress, options.PerAddressBurst, options.Period));
    });

    /// <summary>Whether writes from <paramref name="address"/> count against its per-address bucket (the etcd fast path asks too).</summary>
    internal static bool CountsAddress(RateLimitOptions options, IPAddress? address, bool hook) =>
        options.PerAddress > 0 && address is not null && (options.LimitLoopback || hook || !IPAddress.IsLoopback(address));

    private static TokenBucketRateLimiterOptions Bucket(int perPeriod, int burst, TimeSpan period) => new()
    {
        TokenLimit = Math.Max(burst, 1),
        TokensPerPeriod = perPeriod,
        ReplenishmentPeriod = period,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

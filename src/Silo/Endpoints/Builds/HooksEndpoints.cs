using Platform.Builds.Hooks;
using Platform.Grains.Builds;
using Platform.Grains.Rules;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// POST /hooks/bitbucket|github|gitlab: push hooks (docs/builds.md, "Push hooks"). No token: a delivery carries the
/// repository's signature, checked by the repository grain before anything is queued. Rate limited per address.
/// </summary>
public static class HooksEndpoints
{
    /// <summary>Largest delivery read; GitHub caps its payloads at 25 MB, but a push rarely needs more than a few hundred KB.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    public static IEndpointRouteBuilder MapHooksEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/hooks/{provider}", Deliver);
        return app;
    }

    private static async Task<IResult> Deliver(string provider, HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        if (provider is not (HookParser.Bitbucket or HookParser.GitHub or HookParser.GitLab))
            return BuildsJson.Error(404, $"no hook for provider '{provider}'; expected /hooks/bitbucket, /hooks/github or /hooks/gitlab");
        var body = await ReadBodyAsync(context.Request);
        if (body is null) return BuildsJson.Error(413, $"the delivery is over {MaxBodyBytes} bytes");
        var headers = context.Request.Headers;
        var delivery = HookParser.Read(provider, name => headers.TryGetValue(name, out var value) && value.Count != 0 ? value[0] : null, body);
        switch (delivery.Result)
        {
            case HookResult.Invalid invalid:
                return BuildsJson.Error(400, $"{provider} delivery: {invalid.Reason}");
            case HookResult.Ignored ignored:
                return TypedResults.Ok(new HookAnswer([], [], Ignored: ignored.Reason));
        }
        var pushes = ((HookResult.Pushes)delivery.Result).Events;
        var signatureHeader = provider switch
        {
            HookParser.GitHub => "X-Hub-Signature-256",
            HookParser.GitLab => "X-Gitlab-Token",
            _ => "X-Hub-Signature",
        };
        var signature = headers.TryGetValue(signatureHeader, out var sent) && sent.Count != 0 ? sent[0] : null;
        var outcome = await grains.GetGrain<IRepositoryGrain>(delivery.Repository!).Deliver(provider, signature, body, delivery.DeliveryId, [.. pushes]);
        switch (outcome.Status)
        {
            case HookStatus.UnknownRepository:
                return BuildsJson.Error(404, outcome.Error!);
            case HookStatus.Unauthorized:
                return BuildsJson.Error(401, outcome.Error!);
        }
        // The rule engine hears of every accepted push, a redelivery too (it ignores a delivery id it has): a push it could not
        // be told of is answered 503, so the provider delivers it again.
        if (await TellRulesAsync(grains, delivery.Repository!, delivery.DeliveryId, pushes, context.RequestAborted) is { } failed)
            return BuildsJson.Error(503, failed);
        if (outcome.Status == HookStatus.Duplicate) return TypedResults.Ok(new HookAnswer([], outcome.Notes, Duplicate: true));
        foreach (var build in outcome.Builds)
            await audit.RecordAsync($"hook:{provider}", "build.start", build, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted);
        return TypedResults.Ok(new HookAnswer(outcome.Builds, outcome.Notes));
    }

    /// <summary>Tells the rule engine each pushed branch (tries three times); answers the error when it could not.</summary>
    private static async Task<string?> TellRulesAsync(IGrainFactory grains, string repo, string? deliveryId, IReadOnlyList<PushEvent> pushes, CancellationToken cancellationToken)
    {
        var engine = grains.GetGrain<IRuleEngineGrain>("default");
        var branches = 0;
        foreach (var push in pushes)
            if (!push.Deleted && push.Kind == RefKind.Branch) branches++;
        foreach (var push in pushes)
        {
            if (push.Deleted || push.Kind != RefKind.Branch) continue;
            // One delivery may push several branches (Bitbucket): each is its own occurrence.
            var id = deliveryId is null ? $"{repo}:{push.Ref}:{push.Commit}" : branches == 1 ? deliveryId : $"{deliveryId}:{push.Ref}";
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await engine.OnPush(repo, push.Ref, push.Commit!, id);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException && attempt < 3)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return $"the push of '{push.Ref}' could not be given to the rule engine ({e.Message}); deliver it again";
                }
            }
        }
        return null;
    }

    /// <summary>The whole body, or null when it is over <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted);
            if (read == 0) return buffer.ToArray();
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
    }
}

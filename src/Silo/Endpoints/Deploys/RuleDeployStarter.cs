using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Grains.Deploys;
using Platform.Grains.Rules;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>
/// Starts a rule's deploy: the request is read exactly as a <c>POST /v1/deploys</c> body is, and the deploy's id comes
/// from the idempotency key, so a run finished again after a restart finds its deploy instead of starting a second one.
/// A deploy it starts is audited as <c>deploy.start</c> by <c>rule:{rule id}</c>, as one from the API is by its token.
/// </summary>
public sealed class RuleDeployStarter(IGrainFactory grains, AuditLog audit) : IDeployStarter
{
    /// <inheritdoc />
    public async Task<string> StartDeployAsync(RuleDeployRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        DeploySpec spec;
        try
        {
            using var body = JsonDocument.Parse(Body(request));
            spec = DeployRequest.Parse(body.RootElement);
        }
        catch (JsonException e)
        {
            throw new RuleActionException($"strategy: not valid JSON ({e.Message})");
        }
        catch (DeployRequestException e)
        {
            throw new RuleActionException(e.Message);
        }
        var id = IdFor(request.IdempotencyKey);
        var grain = grains.GetGrain<IDeployGrain>(id);
        var started = await grain.Start(spec);
        if (started.Deploy is not null)
        {
            await audit.RecordAsync($"rule:{request.RuleId}", "deploy.start", id, null, cancellationToken);
            return id;
        }
        // 409: this key started its deploy before (the grain keeps it); anything else is the request's fault.
        if (started.ErrorStatus == 409 && await grain.Get() is not null) return id;
        throw new RuleActionException(started.Error ?? "the deploy did not start");
    }

    /// <summary>The deploy id for an idempotency key: <c>rule-</c> and 16 hex digits of its SHA-256.</summary>
    public static string IdFor(string idempotencyKey)
        => "rule-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..16];

    /// <summary>The rule's request as the deploy API's JSON body (strategy passed as written in the rule).</summary>
    private static byte[] Body(RuleDeployRequest request)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (request.ManifestUrl is not null) w.WriteString("manifest_url", request.ManifestUrl);
            if (request.Manifest is not null) w.WriteString("manifest", request.Manifest);
            w.WriteStartObject("target");
            var target = request.Target;
            if (target.Nodes is { } nodes)
            {
                w.WriteStartArray("nodes");
                foreach (var n in nodes) w.WriteStringValue(n);
                w.WriteEndArray();
            }
            if (target.Tags is { } tags)
            {
                w.WriteStartObject("tags");
                foreach (var (tag, expr) in tags) w.WriteString(tag, expr);
                w.WriteEndObject();
            }
            if (target.All) w.WriteBoolean("all", true);
            w.WriteEndObject();
            if (request.StrategyJson is { } strategy)
            {
                w.WritePropertyName("strategy");
                w.WriteRawValue(strategy);
            }
            if (request.StretchJson is { } stretch)
            {
                w.WritePropertyName("stretch");
                w.WriteRawValue(stretch);
            }
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}

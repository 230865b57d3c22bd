using System.Text.Json;
using Platform.Grains.Rules;
using Platform.Runtime;
using Platform.Silo.Access;
using Platform.Silo.Endpoints.Deploys;
using Platform.Silo.Endpoints.Feeds;

namespace Platform.Silo.Endpoints.Rules;

/// <summary>/v1/rules: add, list, show, replace, enable, disable and remove rules, and read a rule's runs (docs/rules.md).</summary>
public static class RulesEndpoints
{
    /// <summary>The largest rule body read.</summary>
    public const int MaxBody = 256 * 1024;

    public static IEndpointRouteBuilder MapRulesEndpoints(this IEndpointRouteBuilder app)
    {
        var rules = app.MapGroup("/v1/rules");
        rules.MapGet("", List);
        // A literal segment wins over {id}: a rule named "schema" is read by its id.
        rules.MapGet("/schema", () => Json(RuleSchema.Answer));
        rules.MapPost("", Add);
        rules.MapGet("/{id}", Get);
        rules.MapPut("/{id}", Replace);
        rules.MapDelete("/{id}", Remove);
        rules.MapPost("/{id}/enable", (string id, HttpContext context, IGrainFactory grains, AuditLog audit) => SetEnabled(id, true, context, grains, audit));
        rules.MapPost("/{id}/disable", (string id, HttpContext context, IGrainFactory grains, AuditLog audit) => SetEnabled(id, false, context, grains, audit));
        rules.MapGet("/{id}/runs", Runs);
        return app;
    }

    private static IRuleRegistryGrain Registry(IGrainFactory grains) => grains.GetGrain<IRuleRegistryGrain>("default");

    private static async Task<IResult> List(HttpContext context, IGrainFactory grains, RulesFeed feed)
    {
        var follow = context.Request.Query["follow"].ToString();
        if (follow.Length == 0 || follow == "false") return Json((await Registry(grains).List()).Rules);
        if (follow != "true") return Error(400, $"follow '{follow}' is not true or false", "follow");
        // The rules, then a line per run recorded or ended and the rules again after each change (docs/rules.md, "Following").
        await FeedStream.Write(context, feed.OpenAsync,
            async () => RulesLine((await Registry(grains).List()).Rules),
            change => change is RuleRun run ? FeedStream.Line("run", "run", run, RuleJson.Options) : RulesLine(((RuleSet)change).Rules));
        return TypedResults.Empty;
    }

    private static byte[] RulesLine(List<Rule> rules) => FeedStream.Line("rules", "rules", rules, RuleJson.Options);

    private static async Task<IResult> Get(string id, IGrainFactory grains)
        => await Registry(grains).Get(id) is { } rule ? Json(rule) : Error(404, $"no rule has the id or name '{id}'", "id");

    private static async Task<IResult> Add(HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        var (spec, bad) = await ReadAsync(context.Request);
        if (bad is not null) return bad;
        var change = await Registry(grains).Add(spec!);
        if (change.Outcome != RuleChangeOutcome.Done) return Answer(change);
        await audit.RecordAsync(context, "rule.add", Describe(change.Rule!));
        return TypedResults.Json(change.Rule, RuleJson.Options, statusCode: 201);
    }

    private static async Task<IResult> Replace(string id, HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        var (spec, bad) = await ReadAsync(context.Request);
        if (bad is not null) return bad;
        var change = await Registry(grains).Update(id, spec!);
        if (change.Outcome == RuleChangeOutcome.Done) await audit.RecordAsync(context, "rule.change", Describe(change.Rule!));
        return Answer(change);
    }

    private static async Task<IResult> SetEnabled(string id, bool enabled, HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        var change = await Registry(grains).SetEnabled(id, enabled);
        if (change.Outcome == RuleChangeOutcome.Done) await audit.RecordAsync(context, enabled ? "rule.enable" : "rule.disable", Describe(change.Rule!));
        return Answer(change);
    }

    private static async Task<IResult> Remove(string id, HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        var change = await Registry(grains).Remove(id);
        if (change.Outcome == RuleChangeOutcome.Done) await audit.RecordAsync(context, "rule.remove", Describe(change.Rule!));
        return Answer(change);
    }

    private static async Task<IResult> Runs(string id, HttpRequest request, IGrainFactory grains)
    {
        var limitText = request.Query["limit"].ToString();
        var limit = 20;
        if (limitText.Length != 0 && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
            return Error(400, $"limit '{limitText}' is not a number of runs from 1 to 1000", "limit");
        if (await Registry(grains).Get(id) is not { } rule) return Error(404, $"no rule has the id or name '{id}'", "id");
        return Json(await grains.GetGrain<IRuleEngineGrain>("default").Runs(rule.Id, limit));
    }

    private static async Task<(RuleSpec? Spec, IResult? Error)> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBody) return (null, Error(413, $"(body): is {request.ContentLength} bytes; at most {MaxBody} are read", "(body)"));
        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return (null, Error(400, $"(body): is not JSON: {e.Message}; expected a rule object", "(body)"));
        }
        using (doc)
        {
            try
            {
                var spec = RuleJson.Parse(doc.RootElement);
                for (var i = 0; i < (spec.Actions?.Count ?? 0); i++)
                {
                    var action = spec.Actions![i];
                    // The deploy API's message names its field first ("strategy.batch: 0; expected …").
                    if (action.Type == RuleActionTypes.StartDeploy && DeployRequest.StrategyProblem(action.Strategy, action.Stretch) is { } problem)
                        return (null, Error(400, $"actions[{i}].{problem}", $"actions[{i}].{problem[..Math.Max(0, problem.IndexOf(':'))]}"));
                }
                return (spec, null);
            }
            catch (RuleJsonException e)
            {
                return (null, Error(400, e.Message, e.Field));
            }
        }
    }

    private static IResult Answer(RuleChange change) => change.Outcome switch
    {
        RuleChangeOutcome.Done => Json(change.Rule!),
        RuleChangeOutcome.NotFound => Error(404, change.Error!.Message, change.Error.Field),
        RuleChangeOutcome.Conflict => Error(409, change.Error!.ToString(), change.Error.Field),
        _ => Error(400, change.Error!.ToString(), change.Error.Field),
    };

    private static IResult Json<T>(T value) => TypedResults.Json(value, RuleJson.Options);

    private static IResult Error(int status, string message, string field) => TypedResults.Json(new RuleErrorAnswer(message, field), RuleJson.Options, statusCode: status);

    /// <summary>What the audit log says about a rule: its id, name and "trigger → actions".</summary>
    private static string Describe(Rule rule)
        => $"{rule.Id} {rule.Name} ({rule.Trigger.Type} → {string.Join(", ", rule.Actions.Select(a => a.Type))}{(rule.Enabled ? "" : ", disabled")})";
}

/// <summary>An error answer: the message and the field it is about.</summary>
public sealed record RuleErrorAnswer(string Error, string Field);

using System.Text;
using System.Text.Json;
using Platform.Agent.Checks;
using Platform.Grains.Nodes;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>
/// Registering and deregistering a node's checks through the API, shared by Consul's <c>/v1/agent/check/register</c>
/// and Platform's <c>/v1/nodes/{name}/checks</c>: the body is Consul's check definition, read by the agent's own reader
/// (so a definition the agent would refuse is a 400 here), stored in the node grain and audited.
/// </summary>
internal static class CheckRegistration
{
    /// <summary>Largest definition taken: a check is a few hundred bytes; an HTTP check's body is the only long part.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private const string Example = "{\"Name\": \"web\", \"HTTP\": \"http://localhost:8080/health\", \"Interval\": \"10s\"}";

    /// <summary>The definition in the request's body, or what is wrong with it.</summary>
    public static async Task<(NodeCheckDefinition? Check, string? Error)> ReadAsync(HttpRequest request)
    {
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            var chunk = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes) return (null, $"the check definition is over {MaxBodyBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            body = buffer.ToArray();
        }
        if (body.Length == 0) return (null, $"the body is empty; expected a check definition such as {Example}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not JSON: {e.Message}; expected a check definition such as {Example}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, $"the body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; expected one check object such as {Example}");
            CheckDefinition definition;
            try
            {
                // Scripts are read here; whether the node runs them is its agent's setting, checked by the node grain and the agent.
                definition = CheckDefinitionReader.Read(root, new CheckOptions { EnableScriptChecks = true })[0];
            }
            catch (CheckDefinitionException e)
            {
                return (null, e.Message);
            }
            return (new NodeCheckDefinition(definition.Id, definition.Name, Encoding.UTF8.GetString(body), definition.Kind == CheckKind.Script,
                definition.InitialStatus), null);
        }
    }

    /// <summary>Registers <paramref name="check"/> on node <paramref name="node"/>; audited when it succeeded.</summary>
    public static async Task<NodeResult> RegisterAsync(HttpContext context, string node, NodeCheckDefinition check)
    {
        var result = await context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>(node).RegisterCheck(check);
        if (result.ErrorKind == NodeErrorKind.None)
            await context.RequestServices.GetRequiredService<AuditLog>().RecordAsync(context, "check.register", $"{node}/{check.Id}");
        return result;
    }

    /// <summary>Deregisters check <paramref name="id"/> of node <paramref name="node"/>; audited when it succeeded.</summary>
    public static async Task<NodeResult> DeregisterAsync(HttpContext context, string node, string id)
    {
        var result = await context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>(node).DeregisterCheck(id);
        if (result.ErrorKind == NodeErrorKind.None)
            await context.RequestServices.GetRequiredService<AuditLog>().RecordAsync(context, "check.deregister", $"{node}/{id}");
        return result;
    }
}

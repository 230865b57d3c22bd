using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Platform.Silo.Artifacts;

/// <summary>
/// <c>/v1/artifacts</c>: PUT streams a body into the store, GET and HEAD serve it with its SHA-256 as the ETag and with
/// range requests, DELETE removes it, and <c>GET /v1/artifacts?prefix=</c> lists (docs/artifacts.md).
/// </summary>
public static partial class ArtifactEndpoints
{
    public const string Prefix = "/v1/artifacts";

    /// <summary>The request header (or <c>?sha256=</c>) with the SHA-256 a PUT's body must have.</summary>
    public const string ChecksumHeader = "X-Checksum-Sha256";

    public static IEndpointRouteBuilder MapArtifactEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Prefix, ListAsync);
        app.MapPut(Prefix + "/{**name}", PutAsync);
        app.MapMethods(Prefix + "/{**name}", [HttpMethods.Get, HttpMethods.Head], GetAsync);
        app.MapDelete(Prefix + "/{**name}", DeleteAsync);
        return app;
    }

    private static async Task<IResult> PutAsync(string? name, HttpContext context, IArtifactStore store, ArtifactOptions options, ILogger<IArtifactStore> logger)
    {
        name = NameOf(context, name);
        if (ArtifactName.Problem(name) is { } problem) return Error(StatusCodes.Status400BadRequest, problem);
        var request = context.Request;
        string? expected = null;
        var given = request.Headers[ChecksumHeader].ToString();
        var source = ChecksumHeader;
        if (given.Length == 0)
        {
            given = request.Query["sha256"].ToString();
            source = "?sha256=";
        }
        if (given.Length != 0)
        {
            if (!Sha256Hex().IsMatch(given)) return Error(StatusCodes.Status400BadRequest, $"{source} is '{given}'; expected a SHA-256 as 64 hexadecimal digits");
            expected = given.ToLowerInvariant();
        }
        if (request.ContentLength is { } length && length > options.MaxSize)
            return Error(StatusCodes.Status413PayloadTooLarge, ArtifactUpload.TooLarge(options.MaxSize).Message);
        // Kestrel's own limit (30 MB) would cut a large upload short: the store counts against MaxSize itself.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        try
        {
            var info = await store.PutAsync(name!, request.Body, options.MaxSize, expected, context.RequestAborted);
            LogStored(logger, info.Name, info.Size, info.Sha256);
            return Results.Created(Prefix + "/" + EscapePath(info.Name), info);
        }
        catch (ArtifactException e)
        {
            LogRefused(logger, name!, e.Status, e.Message);
            return Error(e.Status, e.Message);
        }
    }

    private static async Task<IResult> GetAsync(string? name, HttpContext context, IArtifactStore store)
    {
        name = NameOf(context, name);
        if (ArtifactName.Problem(name) is { } problem) return Error(StatusCodes.Status400BadRequest, problem);
        var content = await store.OpenAsync(name!, context.RequestAborted);
        if (content is null) return Error(StatusCodes.Status404NotFound, $"artifact '{name}' does not exist");
        context.Response.RegisterForDisposeAsync(content);
        context.Response.Headers[ChecksumHeader] = content.Info.Sha256;
        return Results.Stream(content.Stream, "application/octet-stream", lastModified: content.Info.Created,
            entityTag: new EntityTagHeaderValue("\"" + content.Info.Sha256 + "\""), enableRangeProcessing: true);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IArtifactStore store)
    {
        var prefix = context.Request.Query["prefix"].ToString();
        if (ArtifactName.PrefixProblem(prefix) is { } problem) return Error(StatusCodes.Status400BadRequest, problem);
        return Results.Ok(await store.ListAsync(prefix, context.RequestAborted));
    }

    private static async Task<IResult> DeleteAsync(string? name, HttpContext context, IArtifactStore store)
    {
        name = NameOf(context, name);
        if (ArtifactName.Problem(name) is { } problem) return Error(StatusCodes.Status400BadRequest, problem);
        return await store.DeleteAsync(name!, context.RequestAborted)
            ? Results.NoContent()
            : Error(StatusCodes.Status404NotFound, $"artifact '{name}' does not exist");
    }

    /// <summary>The artifact name a request to <c>/v1/artifacts/{name}</c> names, as the client sent it; null when it names none.</summary>
    public static string? RequestedName(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        return NameOf(context, path.StartsWith(Prefix + "/", StringComparison.Ordinal) ? path[(Prefix.Length + 1)..] : null);
    }

    /// <summary>
    /// The name as the client sent it: Kestrel removes <c>..</c> and <c>.</c> segments from the path before routing, and a
    /// name that had them must be refused, not quietly turned into another name.
    /// </summary>
    private static string? NameOf(HttpContext context, string? routed)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (raw is null || !raw.StartsWith(Prefix + "/", StringComparison.Ordinal)) return routed;
        var end = raw.IndexOf('?', StringComparison.Ordinal);
        var path = end < 0 ? raw[(Prefix.Length + 1)..] : raw[(Prefix.Length + 1)..end];
        return Uri.UnescapeDataString(path);
    }

    /// <summary>Each segment escaped, the '/' between them kept.</summary>
    public static string EscapePath(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "artifacts: stored {Name} ({Size} bytes, sha256 {Sha256})")]
    private static partial void LogStored(ILogger logger, string name, long size, string sha256);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Information, Message = "artifacts: refused {Name} ({Status}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string name, int status, string reason);
}

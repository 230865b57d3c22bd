using System.Net;

namespace Platform.Client;

/// <summary>A silo answered with an error (<c>{"error":"..."}</c>): the message is the silo's, the status its HTTP status.</summary>
public sealed class PlatformApiException(HttpStatusCode status, string message, Uri? silo)
    : Exception(message)
{
    /// <summary>The HTTP status the silo answered.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>The silo that answered, when known.</summary>
    public Uri? Silo { get; } = silo;
}

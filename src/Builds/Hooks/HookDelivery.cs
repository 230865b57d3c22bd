namespace Platform.Builds.Hooks;

/// <summary>
/// One webhook delivery as read from its headers and body, before its signature is checked (the secret is per repository,
/// so the repository is read first).
/// </summary>
/// <param name="Provider">bitbucket, github or gitlab.</param>
/// <param name="EventType">The provider's event type header (repo:push, push, Push Hook…).</param>
/// <param name="Repository">The repository named in the body; null when the body could not be read.</param>
/// <param name="DeliveryId">The provider's delivery id, kept the same on redelivery; null when the provider sent none.</param>
/// <param name="Result">The pushes, or why nothing is to be done.</param>
public sealed record HookDelivery(string Provider, string EventType, string? Repository, string? DeliveryId, HookResult Result);

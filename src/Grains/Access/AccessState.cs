namespace Platform.Grains.Access;

/// <summary>The access grain's durable state: every token ever made (revoked ones stay, marked) and the set's version.</summary>
public sealed class AccessState
{
    public List<AccessToken> Tokens { get; set; } = [];

    public long Version { get; set; }

    /// <summary>A token was made once: bootstrap never runs again, even after every token is revoked.</summary>
    public bool HadTokens { get; set; }
}

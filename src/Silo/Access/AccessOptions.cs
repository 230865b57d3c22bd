namespace Platform.Silo.Access;

/// <summary>Section "Platform:Access": tokens, the open loopback default and rate limits (docs/security.md).</summary>
public sealed class AccessOptions
{
    public const string Section = "Platform:Access";

    /// <summary>Serve a silo that listens beyond loopback even when no token exists (everything allowed). Default false. Command line: --insecure.</summary>
    public bool Insecure { get; set; }

    /// <summary>At the first start of a cluster that never had a token, make an admin token and print it once. Default false. Command line: --bootstrap.</summary>
    public bool Bootstrap { get; set; }

    /// <summary>
    /// How often each silo renews its subscription to the token set and re-reads it: the longest a revocation takes to
    /// reach a silo that missed the push. Default 5 s.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Rate limits on writes (every request other than GET and HEAD).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>The first setting that is out of range, named, or null.</summary>
    public string? Validate()
    {
        if (RefreshInterval <= TimeSpan.Zero) return $"Platform:Access:RefreshInterval is {RefreshInterval}; expected a positive time such as 00:00:05";
        return RateLimit.Validate();
    }
}

/// <summary>Section "Platform:Access:RateLimit": token buckets per token and per client address.</summary>
public sealed class RateLimitOptions
{
    /// <summary>The period the sustained rates are counted over. Default 1 s.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Writes one token may make per <see cref="Period"/>, sustained. Default 200; 0 turns the per-token limit off.</summary>
    public int PerToken { get; set; } = 200;

    /// <summary>Writes one token may make at once above the sustained rate. Default 400.</summary>
    public int PerTokenBurst { get; set; } = 400;

    /// <summary>Writes one client address may make per <see cref="Period"/>, sustained. Default 100; 0 turns the per-address limit off.</summary>
    public int PerAddress { get; set; } = 100;

    /// <summary>Writes one client address may make at once above the sustained rate. Default 200.</summary>
    public int PerAddressBurst { get; set; } = 200;

    /// <summary>Whether loopback clients count against the per-address limit. Default false: this machine is trusted as in the open default (push hooks are limited from loopback too).</summary>
    public bool LimitLoopback { get; set; }

    /// <summary>The first setting that is out of range, named, or null.</summary>
    public string? Validate()
    {
        if (Period <= TimeSpan.Zero) return $"Platform:Access:RateLimit:Period is {Period}; expected a positive time such as 00:00:01";
        if (PerToken < 0) return $"Platform:Access:RateLimit:PerToken is {PerToken}; expected 0 (off) or more";
        if (PerAddress < 0) return $"Platform:Access:RateLimit:PerAddress is {PerAddress}; expected 0 (off) or more";
        if (PerToken > 0 && PerTokenBurst < 1) return $"Platform:Access:RateLimit:PerTokenBurst is {PerTokenBurst}; expected 1 or more";
        if (PerAddress > 0 && PerAddressBurst < 1) return $"Platform:Access:RateLimit:PerAddressBurst is {PerAddressBurst}; expected 1 or more";
        return null;
    }
}

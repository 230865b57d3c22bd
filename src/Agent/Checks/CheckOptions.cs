namespace Platform.Agent.Checks;

/// <summary>Tunables of the node's checks, with Consul's defaults.</summary>
public sealed class CheckOptions
{
    /// <summary>Consul's <c>check_output_max_size</c> default: 4 KiB of output kept per run.</summary>
    public const int DefaultOutputMaxSize = 4 * 1024;

    /// <summary>
    /// Consul's <c>enable_local_script_checks</c>: script checks from the node's own configuration may run.
    /// Default false, as in Consul: a check that runs commands must be turned on on purpose.
    /// </summary>
    public bool EnableScriptChecks { get; set; }

    /// <summary>Consul's <c>check_output_max_size</c>: bytes of output kept per run; longer output is cut with a note.</summary>
    public int OutputMaxSize { get; set; } = DefaultOutputMaxSize;
}

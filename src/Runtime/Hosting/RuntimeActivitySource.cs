namespace Platform.Runtime;

/// <summary>The name of the runtime's <see cref="System.Diagnostics.ActivitySource"/>: spans of grain calls received from other silos.</summary>
public static class RuntimeActivitySource
{
    /// <summary>Add it to a tracer (<c>AddSource</c>) to export the spans.</summary>
    public const string Name = "Platform.Runtime";
}

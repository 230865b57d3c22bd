namespace Platform.Runtime.Catalog;

/// <summary>Routes a grain's await continuations back into its own activation, one at a time.</summary>
internal sealed class ActivationSynchronizationContext(ActivationData activation) : SynchronizationContext
{
    public ActivationData Activation { get; } = activation;

    public override void Post(SendOrPostCallback d, object? state) => Activation.PostContinuation(d, state);

    public override void Send(SendOrPostCallback d, object? state)
        => throw new NotSupportedException($"Synchronous Send into {Activation} would block its turn; await instead.");

    public override SynchronizationContext CreateCopy() => this;
}

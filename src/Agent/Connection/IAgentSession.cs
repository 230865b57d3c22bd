using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>What an <see cref="AgentConnection"/> asks of its owner: the hello to send and what to do with frames. Calls come one at a time per connection.</summary>
public interface IAgentSession
{
    /// <summary>The hello for the next connection attempt (its <c>last_event_ltime</c> as of now).</summary>
    HelloFrame CreateHello();

    /// <summary>The silo accepted the hello.</summary>
    ValueTask OnWelcomeAsync(WelcomeFrame welcome, CancellationToken cancellationToken);

    /// <summary>A frame after the welcome (pongs are handled by the connection and not passed on).</summary>
    ValueTask OnFrameAsync(AgentFrame frame, CancellationToken cancellationToken);
}

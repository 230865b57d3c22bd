using Microsoft.Extensions.Logging;

namespace Platform.Agent;

/// <summary>The agent's log level, changeable while it runs (a SIGHUP reload sets <c>log_level</c> again, as Serf's agent does).</summary>
public sealed class LogLevelSwitch(LogLevel level)
{
    private volatile int _level = (int)level;

    /// <summary>Messages below this level are dropped.</summary>
    public LogLevel Level
    {
        get => (LogLevel)_level;
        set => _level = (int)value;
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Platform.Cluster.Bench;

/// <summary>A minimal logger provider: one line per entry, to a file (the driver) or stderr (a serve child).</summary>
public sealed class FileLog(TextWriter output) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public static FileLog ToFile(string path) => new(new StreamWriter(path, append: true) { AutoFlush = true });

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Write(string line)
    {
        lock (_gate) output.WriteLine(line);
    }

    public void Dispose()
    {
        lock (_gate) output.Flush();
    }

    private sealed class Logger(FileLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = $"{DateTime.UtcNow:HH:mm:ss.fff} t={Stopwatch.GetTimestamp()} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}";
            if (exception is not null) text += $" | {exception.GetType().Name}: {exception.Message}";
            owner.Write(text);
        }
    }
}

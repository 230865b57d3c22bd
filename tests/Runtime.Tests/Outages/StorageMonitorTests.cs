using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.MembershipTests;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Outages;

/// <summary>An outage is logged as a handful of lines, however many calls fail during it.</summary>
public sealed class StorageMonitorTests
{
    private sealed class Logger<T>(RecordingLogger inner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }

    private static StorageUnavailableException Failure() =>
        new("PostgreSQL storage at 192.0.2.1:5432: committing a batch failed, connection lost or refused: connection refused", new IOException("refused"));

    private static (StorageMonitor Monitor, RecordingLogger Log, ManualClock Clock) Create()
    {
        var log = new RecordingLogger();
        var clock = new ManualClock();
        var monitor = new StorageMonitor(new Logger<StorageMonitor>(log), Options.Create(new StorageMonitorOptions()), clock);
        return (monitor, log, clock);
    }

    [Fact]
    public void An_outage_logs_one_warning_a_summary_every_10_s_and_one_line_when_back_with_the_time_out()
    {
        var (monitor, log, clock) = Create();
        var dependency = monitor.Get("PostgreSQL at 192.0.2.1:5432");
        for (var second = 0; second < 25; second++)
        {
            for (var i = 0; i < 300; i++) dependency.ReportFailure(Failure());
            for (var i = 0; i < 100; i++) monitor.CountRefusedCall();
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        dependency.ReportSuccess();
        dependency.ReportSuccess();
        Assert.True(dependency.IsReachable);
        Assert.Equal(1, monitor.Recoveries);
        clock.Advance(TimeSpan.FromSeconds(1));

        var warnings = log.Entries.Where(e => e.Level >= LogLevel.Information).ToList();
        Assert.Equal([1601, 1603, 1603, 1604], warnings.Select(e => e.EventId.Id));
        Assert.Contains("192.0.2.1:5432", warnings[0].Message);
        Assert.Contains("3000 storage operations failed and 1000 calls were refused in the last 10 s", warnings[1].Message);
        Assert.Contains("after 25 s out", warnings[3].Message);
    }

    [Fact]
    public void A_write_refused_just_after_one_was_taken_continues_the_outage_without_a_second_warning()
    {
        var (monitor, log, clock) = Create();
        var dependency = monitor.Get("SQLite file '/data/platform.db'");
        dependency.ReportFailure(Failure());
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(500));
            dependency.ReportSuccess();
            clock.Advance(TimeSpan.FromMilliseconds(100));
            dependency.ReportFailure(Failure());
        }
        Assert.False(dependency.IsReachable);
        dependency.ReportSuccess();
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal([1601, 1604], log.Entries.Where(e => e.Level >= LogLevel.Information).Select(e => e.EventId.Id));
        Assert.Equal(6, monitor.Recoveries);
    }

    [Fact]
    public void While_unreachable_a_probe_each_second_finds_the_dependency_back()
    {
        var (monitor, _, clock) = Create();
        var back = false;
        var probes = 0;
        var dependency = monitor.Get("SQLite file '/data/platform.db'", _ =>
        {
            probes++;
            return back ? Task.CompletedTask : Task.FromException(Failure());
        });
        dependency.ReportFailure(Failure());

        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(3, probes);
        Assert.False(monitor.IsReachable);

        back = true;
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(monitor.IsReachable);
        Assert.Equal(1, monitor.Recoveries);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(4, probes);
    }

    [Fact]
    public void Every_provider_on_one_server_shares_its_dependency()
    {
        var (monitor, _, _) = Create();

        Assert.Same(monitor.Get("PostgreSQL at db:5432 database 'p'"), monitor.Get("PostgreSQL at db:5432 database 'p'"));
        Assert.Single(monitor.Dependencies);
    }

    [Fact]
    public void The_client_message_names_no_server_and_the_log_text_names_it()
    {
        var error = Failure();

        Assert.Equal(StorageUnavailableException.ClientMessage, error.Message);
        Assert.DoesNotContain("192.0.2.1", error.Message);
        Assert.Contains("192.0.2.1:5432", error.ToString());
    }
}

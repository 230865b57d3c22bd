using Platform.Agent.State;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.State;

public sealed class AppliedTrackerTests
{
    [Fact]
    public void A_new_data_dir_has_no_mark_and_a_restart_reads_the_last_one()
    {
        using var dir = new TempDir();
        var first = new AppliedTracker(new LastAppliedStore(dir.Path));
        Assert.True(first.IsNew);
        Assert.Equal(0UL, first.Applied);

        Assert.True(first.TryBegin("e1", 4));
        Assert.Equal(4UL, first.Complete("e1"));

        var restarted = new AppliedTracker(new LastAppliedStore(dir.Path));
        Assert.False(restarted.IsNew);
        Assert.Equal(4UL, restarted.Applied);
        Assert.False(restarted.TryBegin("e1", 4));
        Assert.True(restarted.TryBegin("e2", 5));
    }

    [Fact]
    public void The_mark_waits_for_an_earlier_event_still_running()
    {
        using var dir = new TempDir();
        var tracker = new AppliedTracker(new LastAppliedStore(dir.Path));
        Assert.True(tracker.TryBegin("e5", 5));
        Assert.True(tracker.TryBegin("e6", 6));
        Assert.True(tracker.TryBegin("e7", 7));

        // Everything below the event still running is done (events arrive in ltime order), so the mark stops just below it.
        Assert.Equal(4UL, tracker.Complete("e6"));
        Assert.Null(tracker.Complete("e7"));
        Assert.Equal(4UL, new AppliedTracker(new LastAppliedStore(dir.Path)).Applied);

        Assert.Equal(7UL, tracker.Complete("e5"));
        Assert.Equal(7UL, new AppliedTracker(new LastAppliedStore(dir.Path)).Applied);
    }

    [Fact]
    public void An_event_under_way_or_done_above_the_mark_is_not_taken_twice()
    {
        using var dir = new TempDir();
        var tracker = new AppliedTracker(new LastAppliedStore(dir.Path));
        Assert.True(tracker.TryBegin("e3", 3));
        Assert.True(tracker.TryBegin("e4", 4));
        Assert.False(tracker.TryBegin("e3", 3));
        tracker.Complete("e4");
        Assert.False(tracker.TryBegin("e4", 4));
    }

    [Fact]
    public void The_mark_file_is_replaced_whole()
    {
        using var dir = new TempDir();
        var store = new LastAppliedStore(dir.Path);
        store.Save(12);
        store.Save(13);
        Assert.Equal("13\n", File.ReadAllText(store.Path));
        Assert.False(File.Exists(store.Path + ".tmp"));
    }

    [Fact]
    public void A_corrupt_mark_file_is_an_error_naming_it()
    {
        using var dir = new TempDir();
        var store = new LastAppliedStore(dir.Path);
        File.WriteAllText(store.Path, "twelve");
        var error = Assert.Throws<InvalidDataException>(() => store.Load());
        Assert.Equal($"{store.Path}: holds 'twelve'; expected the decimal ltime of the last applied user event", error.Message);
    }
}

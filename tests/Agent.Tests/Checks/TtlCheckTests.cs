using Platform.Agent.Checks;
using Platform.Protocol;

namespace Platform.Agent.Tests.Checks;

public sealed class TtlCheckTests
{
    private readonly ManualClock _clock = new();

    private CheckRecorder Started(string json = """[{"id": "app", "name": "App", "ttl": "30s"}, {"name": "ssh", "tcp": "127.0.0.1:1", "interval": "1h"}]""")
    {
        var recorder = new CheckRecorder(json, _clock);
        return recorder;
    }

    [Fact]
    public async Task Check_never_reported_goes_critical_with_TTL_expired_when_its_ttl_ends()
    {
        await using var recorder = Started("""[{"id": "app", "name": "App", "ttl": "30s", "status": "passing"}]""");
        recorder.Set.Start();
        Assert.Equal(new CheckState("app", "App", CheckStatus.Passing, ""), Assert.Single(recorder.Set.Current));

        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(new CheckState("app", "App", CheckStatus.Critical, "TTL expired"), await recorder.NextChange());
    }

    [Fact]
    public async Task Pass_warn_and_fail_set_the_status_and_note()
    {
        await using var recorder = Started("""[{"id": "app", "name": "App", "ttl": "30s"}]""");
        recorder.Set.Start();

        recorder.Set.Pass("app", "all good");
        Assert.Equal(new CheckState("app", "App", CheckStatus.Passing, "all good"), await recorder.NextChange());
        recorder.Set.Warn("app", "queue long");
        Assert.Equal(new CheckState("app", "App", CheckStatus.Warning, "queue long"), await recorder.NextChange());
        recorder.Set.Fail("app");
        Assert.Equal(new CheckState("app", "App", CheckStatus.Critical, ""), await recorder.NextChange());
    }

    [Fact]
    public async Task Each_report_restarts_the_ttl_and_expiry_shows_the_last_note()
    {
        await using var recorder = Started("""[{"id": "app", "name": "App", "ttl": "30s"}]""");
        recorder.Set.Start();
        _clock.Advance(TimeSpan.FromSeconds(20));
        recorder.Set.Pass("app", "ok");
        Assert.Equal(CheckStatus.Passing, (await recorder.NextChange()).Status);

        _clock.Advance(TimeSpan.FromSeconds(29));
        recorder.Set.Pass("app", "ok");
        _clock.Advance(TimeSpan.FromSeconds(29));
        // Fake time fires timers inside Advance: had the TTL run out, the change would be queued by now.
        Assert.Equal(0, recorder.PendingChanges);
        Assert.Equal(CheckStatus.Passing, recorder.Set.Current[0].Status);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(
            new CheckState("app", "App", CheckStatus.Critical, "TTL expired (last output before timeout follows): ok"),
            await recorder.NextChange());
    }

    [Fact]
    public async Task Same_status_and_note_again_is_not_a_change()
    {
        await using var recorder = Started("""[{"id": "app", "name": "App", "ttl": "30s"}]""");
        recorder.Set.Start();
        recorder.Set.Pass("app", "ok");
        recorder.Set.Pass("app", "ok");
        recorder.Set.Pass("app", "ok again");
        Assert.Equal("ok", (await recorder.NextChange()).Output);
        Assert.Equal("ok again", (await recorder.NextChange()).Output);
        Assert.Equal(0, recorder.PendingChanges);
    }

    [Fact]
    public async Task Note_over_4_KiB_keeps_its_head_with_Consul_note()
    {
        await using var recorder = Started("""[{"id": "app", "name": "App", "ttl": "30s"}]""");
        recorder.Set.Start();
        recorder.Set.Pass("app", new string('n', 5000));
        Assert.Equal(new string('n', 4096) + " ... (captured 4096 of 5000 bytes)", (await recorder.NextChange()).Output);
    }

    [Fact]
    public async Task Unknown_check_and_check_without_ttl_are_refused_with_Consul_messages()
    {
        await using var recorder = Started();
        var unknown = Assert.Throws<KeyNotFoundException>(() => recorder.Set.Pass("App"));
        Assert.Equal("Unknown check ID \"App\". Ensure that the check ID is passed, not the check name.", unknown.Message);
        var noTtl = Assert.Throws<InvalidOperationException>(() => recorder.Set.Fail("ssh"));
        Assert.Equal("CheckID \"ssh\" does not have associated TTL", noTtl.Message);
    }
}

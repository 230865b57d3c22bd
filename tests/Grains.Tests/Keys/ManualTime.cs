namespace Platform.Grains.Tests.Keys;

/// <summary>A clock that moves only when told to, so TTL tests are exact.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private DateTimeOffset _now = start;

    public ManualTime() : this(Epoch)
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public DateTimeOffset Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset at) => _now = at;
}

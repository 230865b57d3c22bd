using Platform.Protocol;

namespace Platform.Agent.Tests;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("300ms", 300)]
    [InlineData(".5s", 500)]
    [InlineData("2h45m", 9_900_000)]
    public void Go_durations_are_read(string text, int milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("10 s")]
    [InlineData("1d")]
    [InlineData("")]
    public void Text_Go_refuses_is_refused(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData(30_000, "30s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(250, "250ms")]
    [InlineData(0, "0s")]
    public void Durations_are_written_as_Go_writes_them(int milliseconds, string text)
        => Assert.Equal(text, GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));
}

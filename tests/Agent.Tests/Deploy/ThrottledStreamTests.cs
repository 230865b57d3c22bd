using Platform.Agent.Deploy;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Deploy;

public sealed class ThrottledStreamTests
{
    [Fact]
    public async Task Reads_wait_until_the_bytes_read_fit_the_rate()
    {
        var time = new ManualTimeProvider();
        await using var stream = new ThrottledStream(new MemoryStream(new byte[1000]), bytesPerSecond: 100, time);
        var buffer = new byte[1000];

        // At most a tenth of a second's worth per read: 10 bytes, due 100 ms after the start.
        var first = stream.ReadAsync(buffer).AsTask();
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(10, await first.WaitAsync(TimeSpan.FromSeconds(10)));

        // Time already spent counts: after 1 s idle the next 10 bytes are not held back.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }
}

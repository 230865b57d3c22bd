using Platform.Builds.Running;

namespace Platform.Builds.Tests.Running;

public sealed class JobLogTests
{
    [Fact]
    public void Chunks_are_numbered_from_1_with_the_byte_offset_of_each()
    {
        var log = new JobLog();
        log.Append("hello "u8);
        log.Append(new byte[JobLog.MaxChunkBytes + 10]);
        log.Append("end"u8);

        var chunks = log.After(0);
        Assert.Equal([1L, 2, 3, 4], chunks.Select(c => c.Seq));
        Assert.Equal([0L, 6, 6 + JobLog.MaxChunkBytes, 16 + JobLog.MaxChunkBytes], chunks.Select(c => c.Offset));
        Assert.Equal(19 + JobLog.MaxChunkBytes, log.Length);
        Assert.All(chunks, c => Assert.InRange(c.Data.Length, 1, JobLog.MaxChunkBytes));
    }

    [Fact]
    public void Acknowledged_chunks_are_forgotten_and_the_rest_kept_for_a_resend()
    {
        var log = new JobLog();
        foreach (var text in new[] { "a", "b", "c" }) log.Append(System.Text.Encoding.UTF8.GetBytes(text));

        log.Acknowledge(2);
        Assert.Equal([3L], log.After(0).Select(c => c.Seq));
        log.Acknowledge(1);
        Assert.Equal(2, log.Acknowledged);
        log.Acknowledge(99);
        Assert.Equal(3, log.Acknowledged);
        Assert.Empty(log.After(0));
    }
}

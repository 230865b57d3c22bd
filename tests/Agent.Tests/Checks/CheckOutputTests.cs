using System.Text;
using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class CheckOutputTests
{
    [Fact]
    public void Output_within_the_limit_is_kept_whole()
    {
        var buffer = new CheckOutputBuffer(16);
        buffer.Write("hello "u8);
        buffer.Write("world"u8);
        Assert.Equal("hello world", buffer.TextWithNote());
    }

    [Fact]
    public void Output_over_the_limit_keeps_the_tail_after_Consul_note()
    {
        var buffer = new CheckOutputBuffer(8);
        buffer.Write("0123456"u8);
        buffer.Write("789abcdef"u8);
        Assert.Equal(16, buffer.TotalWritten);
        Assert.Equal("Captured 8 of 16 bytes\n...\n89abcdef", buffer.TextWithNote());
    }

    [Fact]
    public void One_write_larger_than_the_limit_keeps_its_tail()
    {
        var buffer = new CheckOutputBuffer(4);
        buffer.Write(Encoding.ASCII.GetBytes("abcdefghij"));
        Assert.Equal("Captured 4 of 10 bytes\n...\nghij", buffer.TextWithNote());
    }

    [Fact]
    public void Ttl_note_over_the_limit_keeps_the_head_with_Consul_wording()
    {
        Assert.Equal("abcd ... (captured 4 of 10 bytes)", CheckOutputText.LimitHead("abcdefghij", 4));
        Assert.Equal("short", CheckOutputText.LimitHead("short", 4096));
    }

    [Fact]
    public void Ttl_note_is_cut_on_a_character_boundary()
        => Assert.Equal("é ... (captured 3 of 4 bytes)", CheckOutputText.LimitHead("éé", 3));
}

using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class KeyErrorsTests
{
    [Theory]
    [InlineData(100, "Key not found", 404)]
    [InlineData(101, "Compare failed", 412)]
    [InlineData(102, "Not a file", 403)]
    [InlineData(104, "Not a directory", 400)]
    [InlineData(105, "Key already exists", 412)]
    [InlineData(107, "Root is read only", 400)]
    [InlineData(108, "Directory not empty", 403)]
    [InlineData(110, "The request requires user authentication", 401)]
    [InlineData(201, "PrevValue is Required in POST form", 400)]
    [InlineData(202, "The given TTL in POST form is not a number", 400)]
    [InlineData(203, "The given index in POST form is not a number", 400)]
    [InlineData(209, "Invalid field", 400)]
    [InlineData(210, "Invalid POST form", 400)]
    [InlineData(211, "Value provided on refresh", 400)]
    [InlineData(212, "A TTL must be provided on refresh", 400)]
    [InlineData(300, "Raft Internal Error", 500)]
    [InlineData(301, "During Leader Election", 500)]
    [InlineData(400, "watcher is cleared due to etcd recovery", 400)]
    [InlineData(401, "The event in requested index is outdated and cleared", 400)]
    public void Error_table_matches_etcd_messages_and_http_statuses(int code, string message, int status)
    {
        Assert.Equal(message, KeyErrors.Message((KeyErrorCode)code));
        Assert.Equal(status, KeyErrors.HttpStatus((KeyErrorCode)code));
    }

    [Fact]
    public void Every_code_in_the_table_has_a_message()
    {
        foreach (var code in Enum.GetValues<KeyErrorCode>())
        {
            Assert.False(string.IsNullOrEmpty(KeyErrors.Message(code)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyErrors.Message((KeyErrorCode)999));
    }

    [Fact]
    public void Exception_carries_code_cause_index_and_reads_like_etcds_error_string()
    {
        var e = new KeyException(KeyErrorCode.KeyNotFound, "/foo", 7);
        Assert.Equal(100, (int)e.Code);
        Assert.Equal("/foo", e.Cause);
        Assert.Equal(7ul, e.Index);
        Assert.Equal(404, e.HttpStatus);
        Assert.Equal("Key not found (/foo)", e.Message);
    }
}

using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class KeyPathTests
{
    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("/a", "/a")]
    [InlineData("a", "/a")]
    [InlineData("/a/b", "/a/b")]
    [InlineData("a/b/", "/a/b")]
    [InlineData("/a/b/", "/a/b")]
    [InlineData("/build_notify", "/build_notify")]
    [InlineData("/a/.hidden/..x/x..", "/a/.hidden/..x/x..")]
    [InlineData("/ключ/値/😀", "/ключ/値/😀")]
    [InlineData("/with space/and%20escape", "/with space/and%20escape")]
    public void Keys_are_normalized_to_a_leading_slash_and_no_trailing_slash(string raw, string expected)
    {
        Assert.Equal(expected, KeyPath.Normalize(raw, 0));
    }

    [Fact]
    public void A_normal_key_is_returned_without_copying()
    {
        var key = "/already/normal";
        Assert.Same(key, KeyPath.Normalize(key, 0));
    }

    [Theory]
    [InlineData("/a/../b", "\"..\" segments are not allowed")]
    [InlineData("/..", "\"..\" segments are not allowed")]
    [InlineData("..", "\"..\" segments are not allowed")]
    [InlineData("/a/./b", "\".\" segments are not allowed")]
    [InlineData("/a/.", "\".\" segments are not allowed")]
    [InlineData("/a//b", "empty segment at position 3")]
    [InlineData("//a", "empty segment at position 1")]
    [InlineData("//", "empty segment at position 1")]
    [InlineData("/a//", "empty segment at position 3")]
    public void Dot_segments_and_empty_segments_are_rejected_with_210_naming_the_key(string raw, string problem)
    {
        var e = Assert.Throws<KeyException>(() => KeyPath.Normalize(raw, 42));
        Assert.Equal(KeyErrorCode.InvalidForm, e.Code);
        Assert.Equal("Invalid POST form", e.EtcdMessage);
        Assert.Equal(400, e.HttpStatus);
        Assert.Equal(42ul, e.Index);
        Assert.Equal($"invalid key \"{raw}\": {problem}", e.Cause);
    }

    [Theory]
    [InlineData("/a\u0000b", "\\u0000", "U+0000 at position 2")]
    [InlineData("/a\nb", "\\u000a", "U+000A at position 2")]
    [InlineData("/tab\there", "\\u0009", "U+0009 at position 4")]
    [InlineData("/del\u007f", "\\u007f", "U+007F at position 4")]
    [InlineData("/c1\u0085", "\\u0085", "U+0085 at position 3")]
    public void Control_characters_are_rejected_and_spelled_out_in_the_cause(string raw, string spelled, string where)
    {
        var e = Assert.Throws<KeyException>(() => KeyPath.Normalize(raw, 0));
        Assert.Equal(KeyErrorCode.InvalidForm, e.Code);
        Assert.Contains(spelled, e.Cause);
        Assert.EndsWith($"control character {where}", e.Cause);
        Assert.DoesNotContain(raw, e.Cause);
    }

    [Fact]
    public void Unpaired_surrogates_are_rejected()
    {
        var e = Assert.Throws<KeyException>(() => KeyPath.Normalize("/a\uD800b", 0));
        Assert.Equal("invalid key \"/a\\ud800b\": unpaired surrogate U+D800 at position 2", e.Cause);
        Assert.Throws<KeyException>(() => KeyPath.Normalize("/a\uDC00", 0));
        Assert.Equal("/ok\uD83D\uDE00", KeyPath.Normalize("/ok\uD83D\uDE00", 0));
    }

    [Fact]
    public void Null_key_is_rejected()
    {
        var e = Assert.Throws<KeyException>(() => KeyPath.Normalize(null, 0));
        Assert.Equal("a key is required", e.Cause);
    }

    [Fact]
    public void Keys_deeper_than_the_segment_limit_are_rejected()
    {
        var deepest = string.Concat(Enumerable.Repeat("/a", KeyPath.MaxSegments));
        Assert.Equal(deepest, KeyPath.Normalize(deepest, 0));
        var e = Assert.Throws<KeyException>(() => KeyPath.Normalize(deepest + "/a", 0));
        Assert.EndsWith($"more than {KeyPath.MaxSegments} segments", e.Cause);
        Assert.Contains($"({deepest.Length + 2} characters)", e.Cause);
    }

    [Theory]
    [InlineData("/_hidden", true)]
    [InlineData("/a/_hidden", true)]
    [InlineData("/_dir/visible", false)]
    [InlineData("/a_b", false)]
    [InlineData("/", false)]
    public void A_key_is_hidden_when_its_last_segment_starts_with_underscore(string key, bool hidden)
    {
        Assert.Equal(hidden, KeyPath.IsHidden(key));
    }

    [Theory]
    [InlineData("/a/b", "/a", true)]
    [InlineData("/a", "/", true)]
    [InlineData("/", "/", false)]
    [InlineData("/a", "/a", false)]
    [InlineData("/ab", "/a", false)]
    [InlineData("/a", "/a/b", false)]
    public void IsBelow_means_strictly_inside_a_directory(string key, string ancestor, bool below)
    {
        Assert.Equal(below, KeyPath.IsBelow(key, ancestor));
    }

    [Fact]
    public void Compare_orders_keys_bytewise_in_utf8_like_go()
    {
        var keys = new[] { "/b", "/a\uFF5E", "/a\uD83D\uDE00", "/a", "/aa", "/A" };
        var utf8Order = keys.OrderBy(k => System.Text.Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToArray();
        Array.Sort(keys, KeyPath.Comparer);
        Assert.Equal(utf8Order, keys);
        Assert.Equal(["/A", "/a", "/aa", "/a\uFF5E", "/a\uD83D\uDE00", "/b"], keys);
    }
}

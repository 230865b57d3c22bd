using System.Buffers;
using System.Text;
using Platform.Grains.Keys;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// The etcd fast path's request-head parser, alone: what it takes, and every odd head it leaves to Kestrel (whose
/// answers for them <see cref="EtcdFastPathTests"/> checks against a real silo).
/// </summary>
public sealed class EtcdFastPathHeadTests
{
    private static EtcdHeadParse Parse(string head, EtcdHeadLimits? limits = null) =>
        EtcdFastPathHead.Parse(Encoding.Latin1.GetBytes(head), limits ?? EtcdHeadLimits.Default);

    private static EtcdFastPathHead Taken(string head)
    {
        var parsed = Parse(head);
        Assert.True(parsed.Outcome == EtcdHeadOutcome.Taken, $"handed over ({parsed.Reason}) or incomplete: {head}");
        return parsed.Head!;
    }

    private static void HandedOver(string head, string reason)
    {
        var parsed = Parse(head);
        Assert.Equal(EtcdHeadOutcome.HandOver, parsed.Outcome);
        Assert.Equal(reason, parsed.Reason);
    }

    [Fact]
    public void A_plain_keys_get_is_taken_with_its_path_query_and_length()
    {
        const string text = "GET /v2/keys/a%20b?wait=true&waitIndex=7 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl\r\n\r\n";
        var head = Taken(text);
        Assert.Equal("/v2/keys/a%20b", head.Path);
        Assert.Equal(text.Length, head.Length);
        Assert.False(head.Close);
        Assert.Null(head.Authorization);
        Assert.Equal("7", head.Form!.First("waitIndex"));
        Assert.Null(head.FormError);
    }

    [Theory]
    [InlineData("GET /v2/keys HTTP/1.1\r\nHost: x\r\n\r\n", "/v2/keys")]
    [InlineData("GET /v2/keys/ HTTP/1.1\r\nHost: x\r\n\r\n", "/v2/keys/")]
    [InlineData("GET /v2/keys?recursive=true HTTP/1.1\r\nhost: x\r\n\r\n", "/v2/keys")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", "/v2/keys/a")]
    [InlineData("GET /v2/keys/a//b HTTP/1.1\r\nHost: x\r\n\r\n", "/v2/keys/a//b")]
    [InlineData("GET /v2/keys/.hidden/...three HTTP/1.1\r\nHost: x\r\n\r\n", "/v2/keys/.hidden/...three")]
    public void Plain_heads_are_taken(string text, string path) => Assert.Equal(path, Taken(text).Path);

    [Fact]
    public void Connection_close_is_kept()
    {
        Assert.True(Taken("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").Close);
    }

    [Fact]
    public void The_authorization_header_is_exposed_as_sent()
    {
        var head = Taken("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nAuthorization:  Bearer abc.def \r\n\r\n");
        Assert.Equal("Bearer abc.def", head.Authorization);
        HandedOver("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n", "more than one Authorization header");
    }

    [Fact]
    public void A_malformed_query_is_taken_with_etcds_error()
    {
        var head = Taken("GET /v2/keys/a?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Null(head.Form);
        Assert.Equal(KeyErrorCode.InvalidForm, head.FormError!.Code);
        Assert.Equal("invalid URL escape \"%zz\"", head.FormError.Cause);
    }

    [Theory]
    [InlineData("")]
    [InlineData("G")]
    [InlineData("GET /v2/keys/a HTTP/1.1")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\n")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r")]
    public void A_head_cut_short_waits_for_more(string text) => Assert.Equal(EtcdHeadOutcome.Incomplete, Parse(text).Outcome);

    [Fact]
    public void Pipelined_requests_are_parsed_one_head_at_a_time()
    {
        const string first = "GET /v2/keys/one HTTP/1.1\r\nHost: x\r\n\r\n";
        const string second = "GET /v2/keys/two?wait=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        var bytes = Encoding.ASCII.GetBytes(first + second + "HEAD /v2/keys/three HTTP/1.1\r\n");
        var one = EtcdFastPathHead.Parse(bytes, EtcdHeadLimits.Default);
        Assert.Equal("/v2/keys/one", one.Head!.Path);
        Assert.Equal(first.Length, one.Head.Length);
        var two = EtcdFastPathHead.Parse(bytes.AsSpan(one.Head.Length), EtcdHeadLimits.Default);
        Assert.Equal("/v2/keys/two", two.Head!.Path);
        Assert.True(two.Head.Close);
        var three = EtcdFastPathHead.Parse(bytes.AsSpan(one.Head.Length + two.Head.Length), EtcdHeadLimits.Default);
        Assert.Equal(EtcdHeadOutcome.HandOver, three.Outcome);
    }

    [Fact]
    public void A_head_split_over_buffer_segments_parses_as_one()
    {
        const string text = "GET /v2/keys/split?recursive=true HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n\r\n";
        var bytes = Encoding.ASCII.GetBytes(text);
        var first = new Segment(bytes.AsMemory(0, 20));
        var last = first.Append(bytes.AsMemory(20, 30)).Append(bytes.AsMemory(50));
        var head = EtcdFastPathHead.Parse(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), EtcdHeadLimits.Default).Head!;
        Assert.Equal("/v2/keys/split", head.Path);
        Assert.Equal("Basic eDp5", head.Authorization);
        Assert.Equal(text.Length, head.Length);
    }

    [Theory]
    // Not this path's requests: other methods, versions, targets.
    [InlineData("GE", null)]
    [InlineData("P", null)]
    [InlineData("DELET", null)]
    [InlineData("HEAD /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n", "not a GET, PUT, POST or DELETE")]
    [InlineData("PATCH /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "not a GET, PUT, POST or DELETE")]
    [InlineData("GETS /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n", "not a GET, PUT, POST or DELETE")]
    [InlineData("GET /v2/keys/a HTTP/1.0\r\n\r\n", "not HTTP/1.1")]
    [InlineData("GET /v2/keys/a HTTP/1.1 \r\nHost: x\r\n\r\n", "not HTTP/1.1")]
    [InlineData("GET /version HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET /v2/keysfoo HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET /V2/KEYS/a HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET http://x/v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET * HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET  /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n", "not an origin-form /v2/keys target")]
    [InlineData("GET /v2/keys/a#frag HTTP/1.1\r\nHost: x\r\n\r\n", "control, space, non-ASCII or # in the target")]
    [InlineData("GET /v2/keys/a b HTTP/1.1\r\nHost: x\r\n\r\n", "control, space, non-ASCII or # in the target")]
    [InlineData("GET /v2/keys/\0 HTTP/1.1\r\nHost: x\r\n\r\n", "control, space, non-ASCII or # in the target")]
    [InlineData("GET /v2/keys/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n", "control, space, non-ASCII or # in the target")]
    // Kestrel removes dot segments, percent-encoded or not, before it routes: these may not be keys requests at all.
    [InlineData("GET /v2/keys/../version HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    [InlineData("GET /v2/keys/a/./b HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    [InlineData("GET /v2/keys/%2E%2E/version HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    [InlineData("GET /v2/keys/a/%2e. HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    [InlineData("GET /v2/keys/a/.%2E?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    [InlineData("GET /v2/keys/. HTTP/1.1\r\nHost: x\r\n\r\n", "dot segment in the path")]
    // Line endings and folding Kestrel refuses or reads differently.
    [InlineData("GET /v2/keys/a HTTP/1.1\nHost: x\n\n", "bare LF")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\n\r\n", "bare LF")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n\n", "bare LF")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", "obs-fold")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\n\tHost: x\r\n\r\n", "obs-fold")]
    // Header bytes: NUL, controls, non-ASCII, names that are not tokens.
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", "control or non-ASCII byte in a header value")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9\r\n\r\n", "control or non-ASCII byte in a header value")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", "control or non-ASCII byte in a header value")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-A: \u007f\r\n\r\n", "control or non-ASCII byte in a header value")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost : x\r\n\r\n", "header name not a token")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHo\0st: x\r\n\r\n", "header name not a token")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n", "header without a name")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", "header without a name")]
    // Host: exactly one, and a plain name.
    [InlineData("GET /v2/keys/a HTTP/1.1\r\n\r\n", "no Host")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", "duplicate Host")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n", "duplicate Host")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: user@x\r\n\r\n", "Host not a plain host name")]
    // Bodies and framing: a body on a GET or DELETE, a PUT or POST without exactly one plain Content-Length or with a
    // large body, Transfer-Encoding (with or without Content-Length).
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "a body on a GET or DELETE")]
    [InlineData("DELETE /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1", "a body on a GET or DELETE")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", "more than one Content-Length")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n", "a PUT or POST without Content-Length")]
    [InlineData("POST /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n", "a PUT or POST without Content-Length")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 07\r\n\r\nvalue=1", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: +7\r\n\r\nvalue=1", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\n\r\nvalue=1", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", "Content-Length not a plain number up to MaxBody")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1", "more than one Content-Type")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding header")]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n", "Expect header")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding header")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", "Transfer-Encoding header")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", "Expect header")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "Upgrade header")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n", "Connection other than keep-alive or close")]
    [InlineData("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", "more than one Connection header")]
    // A stream of events, however its name is escaped.
    [InlineData("GET /v2/keys/a?wait=true&stream=true HTTP/1.1\r\nHost: x\r\n\r\n", "stream=true")]
    [InlineData("GET /v2/keys/a?wait=true&str%65am=1 HTTP/1.1\r\nHost: x\r\n\r\n", "stream=true")]
    public void Odd_heads_are_handed_to_kestrel(string text, string? reason)
    {
        if (reason is null)
        {
            Assert.Equal(EtcdHeadOutcome.Incomplete, Parse(text).Outcome);
            return;
        }
        HandedOver(text, reason);
    }

    [Fact]
    public void A_form_put_is_taken_with_its_body_length_and_query_and_the_body_left_unread()
    {
        const string head = "PUT /v2/keys/a%2Fb?prevExist=false HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n";
        var taken = Taken(head + "value=hello");
        Assert.Equal("PUT", taken.Method);
        Assert.True(taken.IsWrite);
        Assert.Equal("/v2/keys/a%2Fb", taken.Path);
        Assert.Equal("prevExist=false", taken.Query);
        Assert.Equal(head.Length, taken.Length);
        Assert.Equal(11, taken.BodyLength);
        Assert.True(taken.FormBody);
        Assert.Equal("false", taken.Form!.First("prevExist"));
    }

    [Theory]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: Application/X-WWW-Form-Urlencoded; charset=utf-8\r\nContent-Length: 7\r\n\r\n", "PUT", 7, true)]
    [InlineData("PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\n", "PUT", 7, false)]
    [InlineData("PUT /v2/keys/a?value=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "PUT", 0, false)]
    [InlineData("POST /v2/keys/queue HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 65536\r\n\r\n", "POST", 65536, true)]
    [InlineData("DELETE /v2/keys/a?recursive=true HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE", 0, false)]
    [InlineData("DELETE /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n", "DELETE", 0, false)]
    public void Writes_are_taken_with_their_method_and_body(string text, string method, int bodyLength, bool formBody)
    {
        var head = Taken(text);
        Assert.Equal(method, head.Method);
        Assert.True(head.IsWrite);
        Assert.Equal(bodyLength, head.BodyLength);
        Assert.Equal(formBody, head.FormBody);
        Assert.Equal(text.Length, head.Length);
    }

    [Fact]
    public void A_get_is_no_write()
    {
        var head = Taken("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n");
        Assert.False(head.IsWrite);
        Assert.False(head.FormBody);
        Assert.Equal(0, head.BodyLength);
    }

    [Fact]
    public void Stream_false_is_an_ordinary_long_poll()
    {
        Assert.Equal("/v2/keys/a", Taken("GET /v2/keys/a?wait=true&stream=false HTTP/1.1\r\nHost: x\r\n\r\n").Path);
    }

    [Fact]
    public void Heads_over_kestrels_limits_are_handed_over_even_before_they_end()
    {
        var limits = new EtcdHeadLimits(MaxRequestLine: 64, MaxHeadersTotal: 128, MaxHeaderCount: 4);
        var longTarget = "GET /v2/keys/" + new string('k', 60) + " HTTP/1.1";
        Assert.Equal("request line over Kestrel's limit", Parse(longTarget, limits).Reason);
        Assert.Equal("request line over Kestrel's limit", Parse(longTarget + "\r\nHost: x\r\n\r\n", limits).Reason);

        var bigHeader = "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('v', 130);
        Assert.Equal("headers over Kestrel's limit", Parse(bigHeader, limits).Reason);
        Assert.Equal("headers over Kestrel's limit", Parse(bigHeader + "\r\n\r\n", limits).Reason);

        Assert.Equal("more headers than Kestrel's limit", Parse("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits).Reason);
        Assert.Equal(EtcdHeadOutcome.Taken, Parse("GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", limits).Outcome);
    }

    [Fact]
    public void Kestrels_default_limits_hand_over_a_request_line_of_8_KiB()
    {
        var text = "GET /v2/keys/" + new string('k', 8 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        Assert.Equal("request line over Kestrel's limit", Parse(text).Reason);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Transport;

public sealed class SiloTlsTests : IDisposable
{
    private readonly SiloTestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    [Fact]
    public async Task Silos_with_certificates_of_the_cluster_CA_exchange_frames_both_ways_over_TLS()
    {
        var aFrames = new RecordingHandler();
        var bFrames = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(aFrames, _certs.Silo("silo-a"));
        await using var b = await TransportTest.StartAsync(bFrames, _certs.Silo("silo-b"));

        for (var i = 0; i < 500; i++)
        {
            a.Send(b.LocalAddress, TestFrame.OfInt64(i, size: 8 + i % 300));
            b.Send(a.LocalAddress, TestFrame.OfInt64(-i));
        }
        // One frame larger than a TLS record and than the receive buffer.
        var large = new byte[200_000];
        Random.Shared.NextBytes(large);
        a.Send(b.LocalAddress, new TestFrame(large));
        await bFrames.WaitForFramesAsync(501);
        await aFrames.WaitForFramesAsync(500);

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), bFrames.Frames.Take(500).Select(f => BitConverter.ToInt64(f.Payload)));
        Assert.Equal(large, bFrames.Frames.Last().Payload);
        Assert.All(bFrames.Frames, f => Assert.Equal(a.LocalAddress, f.From));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)-i), aFrames.Frames.Select(f => BitConverter.ToInt64(f.Payload)));
        Assert.Empty(aFrames.Lost);
        Assert.Empty(bFrames.Lost);
    }

    [Fact]
    public async Task What_a_TLS_silo_sends_is_encrypted_on_the_wire()
    {
        var bFrames = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(new RecordingHandler(), _certs.Silo("silo-a"));
        await using var b = await TransportTest.StartAsync(bFrames, _certs.Silo("silo-b"));
        await using var proxy = new RecordingProxy(b.LocalAddress.Port);
        var marker = Encoding.ASCII.GetBytes("a-marker-that-must-not-be-readable-on-the-wire");

        // Through the proxy: generation 0 reaches whoever listens there.
        a.Send(new SiloAddress("127.0.0.1", proxy.Port, 0), new TestFrame(marker));
        await bFrames.WaitForFramesAsync(1);

        Assert.Equal(marker, bFrames.Frames.Single().Payload);
        var wire = proxy.Sent;
        Assert.True(wire.Length > marker.Length, $"only {wire.Length} bytes crossed the proxy");
        Assert.Equal(0x16, wire[0]);  // a TLS handshake record opens the connection
        Assert.Equal(-1, wire.AsSpan().IndexOf(marker));
        Assert.Equal(-1, wire.AsSpan().IndexOf("platform-silo/1"u8));  // the hello is encrypted too
    }

    [Fact]
    public async Task A_peer_whose_certificate_is_of_another_CA_is_refused_and_both_sides_log_why()
    {
        var goodLog = new ListLogger<TcpSiloTransport>();
        var rogueLog = new ListLogger<TcpSiloTransport>();
        var rogueFrames = new RecordingHandler();
        await using var good = await TransportTest.StartAsync(new RecordingHandler(), _certs.Silo("good"), logger: goodLog);
        await using var rogue = await TransportTest.StartAsync(rogueFrames, _certs.Silo("rogue", otherCa: true), logger: rogueLog);

        // The rogue silo dials: the good one takes the handshake, reads its hello and answers with a reject frame.
        rogue.Send(good.LocalAddress, TestFrame.OfInt64(1));
        var lost = await rogueFrames.WaitForLostAsync(good.LocalAddress);
        var refused = Assert.IsType<SiloUnavailableException>(lost);
        Assert.True(refused.Refused);
        Assert.Contains("CN=rogue, issued by CN=Other Test CA) is not signed by the cluster's CA", refused.Message);
        await TransportTest.Eventually(() => goodLog.Entries.Any(e => e.Id.Id == 1508 && e.Message.Contains($"silo {rogue.LocalAddress}") && e.Message.Contains("not signed by the cluster's CA")),
            "the good silo's log line naming the rogue silo and the reason");
        Assert.Contains(rogueLog.Entries, e => e.Id.Id == 1517 && e.Message.Contains("not signed by the cluster's CA"));

        // The good silo dials: it refuses the rogue's server certificate and tells it why instead of saying hello.
        var frame = TestFrame.OfInt64(2);
        good.Send(rogue.LocalAddress, frame);
        var failure = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed));
        Assert.True(failure.Refused);
        Assert.Contains($"refused the connection to silo {rogue.LocalAddress}", failure.Message);
        Assert.Contains("CN=rogue, issued by CN=Other Test CA) is not signed by the cluster's CA", failure.Message);
        await TransportTest.Eventually(() => rogueLog.Entries.Any(e => e.Id.Id == 1518 && e.Message.Contains($"silo {good.LocalAddress} refused")),
            "the rogue silo's log line saying the dialer refused it");
        // Logged when the refused connection closes, which may come after the frame's failure is reported.
        await TransportTest.Eventually(() => goodLog.Entries.Any(e => e.Id.Id == 1520 && e.Message.Contains("not signed by the cluster's CA")),
            "the good silo's log line saying it has no connection to the rogue silo");
        Assert.Equal(0, rogueFrames.FrameCount);
    }

    [Fact]
    public async Task A_peer_whose_certificate_expired_is_refused_saying_when_it_expired()
    {
        var goodLog = new ListLogger<TcpSiloTransport>();
        var staleFrames = new RecordingHandler();
        await using var good = await TransportTest.StartAsync(new RecordingHandler(), _certs.Silo("good"), logger: goodLog);
        await using var stale = await TransportTest.StartAsync(staleFrames, _certs.Silo("stale", expired: true));

        stale.Send(good.LocalAddress, TestFrame.OfInt64(1));
        var refused = Assert.IsType<SiloUnavailableException>(await staleFrames.WaitForLostAsync(good.LocalAddress));
        Assert.True(refused.Refused);
        Assert.Contains("CN=stale", refused.Message);
        Assert.Contains("expired on", refused.Message);
        await TransportTest.Eventually(() => goodLog.Entries.Any(e => e.Id.Id == 1508 && e.Message.Contains($"silo {stale.LocalAddress}") && e.Message.Contains("expired on")),
            "the good silo's log line naming the silo whose certificate expired");
        Assert.Equal(0, staleFrames.FrameCount);
    }

    [Fact]
    public async Task A_plain_TCP_silo_and_a_TLS_silo_refuse_each_other_saying_so()
    {
        var tlsLog = new ListLogger<TcpSiloTransport>();
        var plainLog = new ListLogger<TcpSiloTransport>();
        var plainFrames = new RecordingHandler();
        var tlsFrames = new RecordingHandler();
        await using var tls = await TransportTest.StartAsync(tlsFrames, _certs.Silo("tls"), logger: tlsLog);
        await using var plain = await TransportTest.StartAsync(plainFrames, logger: plainLog);

        plain.Send(tls.LocalAddress, TestFrame.OfInt64(1));
        var lost = Assert.IsType<SiloUnavailableException>(await plainFrames.WaitForLostAsync(tls.LocalAddress));
        Assert.True(lost.Refused);
        Assert.Contains("plain TCP; this silo takes silo-to-silo connections over TLS only", lost.Message);
        await TransportTest.Eventually(() => tlsLog.Entries.Any(e => e.Id.Id == 1508 && e.Message.Contains($"silo {plain.LocalAddress}: plain TCP")),
            "the TLS silo's log line naming the plain silo");

        var frame = TestFrame.OfInt64(2);
        tls.Send(plain.LocalAddress, frame);
        var failure = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed));
        Assert.True(failure.Refused);
        Assert.Contains($"TLS handshake with silo {plain.LocalAddress}", failure.Message);
        await TransportTest.Eventually(() => plainLog.Entries.Any(e => e.Id.Id == 1508 && e.Message.Contains("the dialer opened a TLS handshake but this silo has no silo-to-silo TLS")),
            "the plain silo's log line saying the dialer spoke TLS");
        Assert.Equal(0, plainFrames.FrameCount);
        Assert.Equal(0, tlsFrames.FrameCount);
    }

    [Fact]
    public async Task A_plain_client_on_the_TLS_port_gets_a_plain_refusal_that_says_TLS_is_required()
    {
        await using var tls = await TransportTest.StartAsync(new RecordingHandler(), _certs.Silo("tls"));
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync("127.0.0.1", tls.LocalAddress.Port);
        var hello = new ArrayBufferWriter<byte>();
        FrameCodec.WriteHello(hello, new SiloAddress("127.0.0.1", 1, 1), tls.LocalAddress);
        await client.SendAsync(hello.WrittenMemory, SocketFlags.None);

        var received = new byte[2048];
        var count = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await client.ReceiveAsync(received.AsMemory(count), SocketFlags.None, timeout.Token)) > 0) count += n;

        Assert.True(FrameCodec.TryParseReject(received.AsSpan(0, count), out var reason), $"not a reject frame: {Encoding.UTF8.GetString(received, 0, count)}");
        Assert.Contains("this silo takes silo-to-silo connections over TLS only (Platform:Cluster:Tls)", reason);
    }

    [Fact]
    public async Task Renewed_certificate_files_are_used_by_the_next_connection()
    {
        var aLog = new ListLogger<TcpSiloTransport>();
        var (cert, key) = _certs.Issue("silo-a");
        var bFrames = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(new RecordingHandler(),
            t => t.Tls = new SiloTlsOptions { CertificateFile = cert, KeyFile = key, CaFile = _certs.CaFile }, logger: aLog);
        await using var b = await TransportTest.StartAsync(bFrames, _certs.Silo("silo-b"));
        a.Send(b.LocalAddress, TestFrame.OfInt64(1));
        await bFrames.WaitForFramesAsync(1);

        // Renewed by a certificate the cluster does not trust: the open connection keeps working, a new one is refused.
        var (otherCert, otherKey) = _certs.Issue("silo-a-renewed", otherCa: true);
        File.Copy(otherCert, cert, overwrite: true);
        File.Copy(otherKey, key, overwrite: true);
        a.Send(b.LocalAddress, TestFrame.OfInt64(2));
        await bFrames.WaitForFramesAsync(2);

        a.Disconnect(b.LocalAddress);
        await TransportTest.Eventually(() => a.QueuedFrames(b.LocalAddress) == 0, "the old connection closed");
        a.Send(b.LocalAddress, TestFrame.OfInt64(3));
        await TransportTest.Eventually(() => aLog.Entries.Any(e => e.Id.Id == 1514 && e.Message.Contains("CN=silo-a-renewed")), "the reload logged with the new subject");
        await TransportTest.Eventually(() => aLog.Entries.Any(e => e.Id.Id == 1517 && e.Message.Contains("CN=silo-a-renewed, issued by CN=Other Test CA")),
            "the new connection refused for the renewed certificate");
        Assert.Equal(2, bFrames.FrameCount);
    }

    [Theory]
    [InlineData("missing-cert")]
    [InlineData("no-ca")]
    [InlineData("wrong-key")]
    public async Task TLS_settings_that_cannot_work_stop_the_start_naming_the_setting_and_file(string problem)
    {
        var (cert, key) = _certs.Issue("silo");
        var (_, otherKey) = _certs.Issue("other");
        var tls = problem switch
        {
            "missing-cert" => new SiloTlsOptions { CertificateFile = Path.Combine(_certs.Directory, "nope.pem"), KeyFile = key, CaFile = _certs.CaFile },
            "no-ca" => new SiloTlsOptions { CertificateFile = cert, KeyFile = key },
            _ => new SiloTlsOptions { CertificateFile = cert, KeyFile = otherKey, CaFile = _certs.CaFile },
        };
        var e = await Assert.ThrowsAsync<SiloTlsException>(() => TransportTest.StartAsync(new RecordingHandler(), t => t.Tls = tls));
        var expected = problem switch
        {
            "missing-cert" => $"Platform:Cluster:Tls:CertificateFile (--silo-tls-cert) '{Path.Combine(_certs.Directory, "nope.pem")}' cannot be read",
            "no-ca" => "Platform:Cluster:Tls:CertificateFile (--silo-tls-cert) is set but Platform:Cluster:Tls:CaFile (--silo-tls-ca) is not",
            _ => $"Platform:Cluster:Tls:KeyFile (--silo-tls-key) '{otherKey}' does not hold the private key of the certificate",
        };
        Assert.Contains(expected, e.Message);
    }
}

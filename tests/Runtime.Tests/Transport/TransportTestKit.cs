using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Transport;

/// <summary>Records what a transport hands its handler: frames (copied) and lost connections.</summary>
public sealed class RecordingHandler : IFrameHandler
{
    private readonly bool _keepPayloads;
    private long _frames;
    private long _checksum;

    public RecordingHandler(bool keepPayloads = true) => _keepPayloads = keepPayloads;

    public ConcurrentQueue<(SiloAddress From, byte[] Payload)> Frames { get; } = new();
    public ConcurrentQueue<(SiloAddress Peer, Exception Reason)> Lost { get; } = new();
    public long FrameCount => Interlocked.Read(ref _frames);

    /// <summary>Sum of the first 8 bytes (little-endian) of every frame, for counting without keeping them.</summary>
    public long Checksum => Interlocked.Read(ref _checksum);

    public void OnFrame(SiloAddress from, ReadOnlySequence<byte> payload)
    {
        if (_keepPayloads)
        {
            Frames.Enqueue((from, payload.ToArray()));
        }
        else if (payload.Length >= 8)
        {
            Span<byte> head = stackalloc byte[8];
            payload.Slice(0, 8).CopyTo(head);
            Interlocked.Add(ref _checksum, BitConverter.ToInt64(head));
        }
        Interlocked.Increment(ref _frames);
    }

    public void OnConnectionLost(SiloAddress peer, Exception reason) => Lost.Enqueue((peer, reason));

    public Task WaitForFramesAsync(long count, TimeSpan? timeout = null)
        => TransportTest.Eventually(() => FrameCount >= count, $"{count} frames (got {FrameCount})", timeout);

    public async Task<Exception> WaitForLostAsync(SiloAddress peer, TimeSpan? timeout = null)
    {
        Exception? reason = null;
        await TransportTest.Eventually(() => (reason = Lost.FirstOrDefault(l => l.Peer == peer).Reason) is not null, $"connection with {peer} lost", timeout);
        return reason!;
    }
}

/// <summary>A frame of fixed bytes that records whether, and why, it failed.</summary>
public sealed class TestFrame(byte[] payload, ManualResetEventSlim? gate = null) : IOutgoingFrame
{
    private readonly TaskCompletionSource<Exception> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failures;

    public static TestFrame OfInt64(long value, int size = 8)
    {
        var bytes = new byte[size];
        BitConverter.TryWriteBytes(bytes, value);
        return new TestFrame(bytes);
    }

    public Task<Exception> Failed => _failed.Task;
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Completes when a writer starts serializing this frame.</summary>
    public Task Writing => _writing.Task;

    public void Write(IBufferWriter<byte> output)
    {
        _writing.TrySetResult();
        gate?.Wait(TimeSpan.FromSeconds(10));  // bounded, so a failing test cannot hang the writer loop
        output.Write(payload);
    }

    public void OnSendFailed(Exception error)
    {
        Interlocked.Increment(ref _failures);
        _failed.TrySetResult(error);
    }
}

/// <summary>A frame whose serializer throws.</summary>
public sealed class ThrowingFrame : IOutgoingFrame
{
    private readonly TaskCompletionSource<Exception> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public Task<Exception> Failed => _failed.Task;

    public void Write(IBufferWriter<byte> output)
    {
        output.GetSpan(100)[..3].Fill(0xFF);
        output.Advance(3);
        throw new InvalidOperationException("serializer broke");
    }

    public void OnSendFailed(Exception error) => _failed.TrySetResult(error);
}

/// <summary>Keeps log lines so tests can check what was reported.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Entries.Enqueue((logLevel, eventId, formatter(state, exception)));
}

public static class TransportTest
{
    private static long s_generation = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static long NextGeneration() => Interlocked.Increment(ref s_generation);

    public static async Task<TcpSiloTransport> StartAsync(IFrameHandler handler, Action<TransportOptions>? configure = null, long? generation = null, ILogger<TcpSiloTransport>? logger = null)
    {
        var options = new TransportOptions { ListenAddress = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        var transport = new TcpSiloTransport(options, generation ?? NextGeneration(), logger ?? new ListLogger<TcpSiloTransport>());
        await transport.StartAsync(handler);
        return transport;
    }

    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>Waits for a frame's failure, or fails the test if it never comes.</summary>
    public static async Task<Exception> FailureOf(Task<Exception> failed, TimeSpan? timeout = null)
    {
        try
        {
            return await failed.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail("the frame never failed");
            throw;
        }
    }
}

/// <summary>Holds the reading thread in the first frame until released; records frames and losses in order.</summary>
public sealed class HeldHandler : IFrameHandler
{
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _events = new();

    public Task Entered => _entered.Task;
    public string[] Events => [.. _events];

    public void Release() => _release.Set();

    public void OnFrame(SiloAddress from, ReadOnlySequence<byte> payload)
    {
        _entered.TrySetResult();
        _release.Wait(TimeSpan.FromSeconds(30));
        Span<byte> head = stackalloc byte[8];
        payload.Slice(0, 8).CopyTo(head);
        _events.Enqueue($"frame {BitConverter.ToInt64(head)}");
    }

    public void OnConnectionLost(SiloAddress peer, Exception reason) => _events.Enqueue($"lost {peer}");
}

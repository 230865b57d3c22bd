using System.Diagnostics;
using System.Net;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>Files and request bodies for the artifact tests: random files checked with the real <c>sha256sum</c>, and bodies that stop halfway.</summary>
internal static class ArtifactBodies
{
    /// <summary>Writes <paramref name="size"/> random bytes to a new file under <paramref name="directory"/>.</summary>
    public static string RandomFile(string directory, string name, int size)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The file's SHA-256 as <c>sha256sum</c> prints it.</summary>
    public static async Task<string> Sha256SumAsync(string path)
    {
        var psi = new ProcessStartInfo("sha256sum") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(path);
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return output.Split(' ')[0];
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what}");
            await Task.Delay(50);
        }
    }
}

/// <summary>A chunked body that sends <c>first</c> and then waits until the request is cancelled: an upload cut off midway.</summary>
internal sealed class StalledContent(byte[] first) : HttpContent
{
    public TaskCompletionSource Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(first, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        Sent.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>A chunked body of <c>size</c> zero bytes with no Content-Length, so the silo learns its size only by reading it.</summary>
internal sealed class UnsizedContent(long size) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var chunk = new byte[1 << 16];
        for (long sent = 0; sent < size; sent += chunk.Length)
        {
            try
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - sent)));
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return; // the silo answered and closed before reading it all
            }
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

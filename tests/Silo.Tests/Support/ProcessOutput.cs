namespace Platform.Silo.Tests.Support;

/// <summary>
/// Waits for a line a child process prints. Its output reaches the test through a pipe read on another thread (and
/// the process's own logger writes from a queue), so a line logged before some other effect the test has seen may not
/// have arrived yet: wait for it, never assert it at once.
/// </summary>
public static class ProcessOutput
{
    public static async Task WaitForAsync(Func<string> output, string text, TimeSpan timeout, string label)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!output().Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{label} did not print '{text}' within {timeout.TotalSeconds} s; its output:\n{output()}");
            await Task.Delay(50);
        }
    }
}

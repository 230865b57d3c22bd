using System.Text;
using System.Text.Json;

namespace Platform.Keys.Bench;

/// <summary>The parts of an etcd v2 event reply the driver checks: action and the node's key, value and modifiedIndex.</summary>
public readonly record struct KeyEvent(string? Action, string? Key, string? Value, long ModifiedIndex)
{
    public static KeyEvent Parse(ReadOnlySpan<byte> json)
    {
        string? action = null, key = null, value = null;
        long modified = -1;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("action"u8))
            {
                reader.Read();
                action = reader.GetString();
            }
            else if (reader.ValueTextEquals("node"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("\"node\" is not an object");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("key"u8)) { reader.Read(); key = reader.GetString(); }
                    else if (reader.ValueTextEquals("value"u8)) { reader.Read(); value = reader.GetString(); }
                    else if (reader.ValueTextEquals("modifiedIndex"u8)) { reader.Read(); modified = reader.GetInt64(); }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new KeyEvent(action, key, value, modified);
    }
}

/// <summary>Checks replies against what the request must produce; a description of the first difference, or null.</summary>
public static class Answers
{
    /// <summary>A reply to PUT (set) or GET of one key: 2xx, the action, the key and the value.</summary>
    public static string? CheckKey(ResponseHead head, ReadOnlySpan<byte> body, string action, string key, string value, params int[] statuses)
    {
        if (Array.IndexOf(statuses, head.Status) < 0) return $"HTTP {head.Status} (expected {string.Join(" or ", statuses)}): {Text(body)}";
        if (head.EtcdIndex < 0) return "no X-Etcd-Index header";
        return CheckEvent(body, action, key, value, -1);
    }

    /// <summary>An event reply: action, key, value and (when known, ≥ 0) modifiedIndex.</summary>
    public static string? CheckEvent(ReadOnlySpan<byte> body, string action, string key, string value, long modifiedIndex)
    {
        KeyEvent e;
        try { e = KeyEvent.Parse(body); }
        catch (JsonException x) { return $"body is not an etcd event ({x.Message}): {Text(body)}"; }
        if (e.Action != action) return $"action '{e.Action}', expected '{action}': {Text(body)}";
        if (e.Key != key) return $"node.key '{e.Key}', expected '{key}': {Text(body)}";
        if (e.Value != value) return $"node.value '{e.Value}', expected '{value}': {Text(body)}";
        if (modifiedIndex >= 0 && e.ModifiedIndex != modifiedIndex) return $"node.modifiedIndex {e.ModifiedIndex}, expected {modifiedIndex} (the PUT's): {Text(body)}";
        return null;
    }

    public static string Text(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)]).ReplaceLineEndings(" ");
        return body.Length > 300 ? s + "…" : s;
    }
}

/// <summary>
/// Non-2xx replies, wrong answers and connection failures of one workload on one server. Counted from many
/// loops at once; the first few are kept word for word. A workload with any fails the run.
/// </summary>
public sealed class ErrorTally(string where)
{
    private const int Kept = 5;
    private readonly List<string> _samples = [];
    private readonly CancellationTokenSource _raised = new();
    private long _non2xx, _wrong, _failed;

    public long Total => Interlocked.Read(ref _non2xx) + Interlocked.Read(ref _wrong) + Interlocked.Read(ref _failed);

    /// <summary>Cancelled at the first error, so that a failing workload ends without waiting out its window.</summary>
    public CancellationToken Raised => _raised.Token;

    public void Non2xx(ResponseHead head, ReadOnlySpan<byte> body)
    {
        Interlocked.Increment(ref _non2xx);
        Keep($"HTTP {head.Status}: {Answers.Text(body)}");
    }

    public void WrongAnswer(string what)
    {
        Interlocked.Increment(ref _wrong);
        Keep("wrong answer: " + what);
    }

    public void Failed(Exception e)
    {
        Interlocked.Increment(ref _failed);
        Keep($"{e.GetType().Name}: {e.Message}");
    }

    private void Keep(string sample)
    {
        lock (_samples)
            if (_samples.Count < Kept) _samples.Add(sample);
        _raised.Cancel();
    }

    /// <summary>Throws a <see cref="BenchFailure"/> that lists the counts and the first samples, if anything went wrong.</summary>
    public void ThrowIfAny()
    {
        if (Total == 0) return;
        lock (_samples)
            throw new BenchFailure($"{where}: {_non2xx:N0} non-2xx replies, {_wrong:N0} wrong answer(s), {_failed:N0} connection failure(s); the numbers would measure errors. First ones:\n  "
                + string.Join("\n  ", _samples));
    }
}

using System.Globalization;
using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>
/// The deploy's log: each line goes to standard error as it happens, in Go's log format (<c>2006/01/02 15:04:05 msg</c>)
/// as Stretcher writes it, and is kept so that the success and failure commands get the whole log on standard input.
/// A command's output is one log line when it ends, as Stretcher logs it; with <paramref name="streamCommands"/> (a
/// cluster deploy, whose output is followed live) it goes to the log as it is written instead.
/// </summary>
public sealed class DeployLog(TextWriter error, TimeProvider time, bool streamCommands = false)
{
    private readonly StringBuilder _kept = new();
    private readonly Lock _lock = new();

    /// <summary>Writes one line (more if <paramref name="message"/> has newlines) with the local time in front.</summary>
    public void Line(string message)
    {
        var stamp = time.GetLocalNow().ToString("yyyy/MM/dd HH:mm:ss ", CultureInfo.InvariantCulture);
        var line = stamp + message.TrimEnd('\n') + "\n";
        Raw(line);
    }

    /// <summary>A sink for one command's output (UTF-8 bytes as they come); <see cref="CommandOutput.Complete"/> when it ends.</summary>
    public CommandOutput Command() => new(this, streamCommands);

    /// <summary>Everything logged so far, as UTF-8.</summary>
    public byte[] Snapshot()
    {
        lock (_lock) return Encoding.UTF8.GetBytes(_kept.ToString());
    }

    private void Raw(string text)
    {
        lock (_lock)
        {
            _kept.Append(text);
            error.Write(text);
            error.Flush();
        }
    }

    /// <summary>One command's output on its way into the log (a character split between two reads is kept whole).</summary>
    public sealed class CommandOutput
    {
        private readonly DeployLog _log;
        private readonly bool _stream;
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly StringBuilder _buffer = new();
        private char _last = '\n';

        internal CommandOutput(DeployLog log, bool stream)
        {
            _log = log;
            _stream = stream;
        }

        public void Write(ReadOnlySpan<byte> data)
        {
            var chars = new char[Encoding.UTF8.GetMaxCharCount(data.Length)];
            var count = _decoder.GetChars(data, chars, flush: false);
            Add(chars.AsSpan(0, count));
        }

        /// <summary>The command ended: the rest of its output goes to the log (a streamed one ends its last line).</summary>
        public void Complete()
        {
            var chars = new char[8];
            var count = _decoder.GetChars([], chars, flush: true);
            Add(chars.AsSpan(0, count));
            if (_stream)
            {
                if (_last != '\n') _log.Raw("\n");
            }
            else if (_buffer.Length > 0)
            {
                _log.Line(_buffer.ToString());
            }
        }

        private void Add(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty) return;
            _last = text[^1];
            if (_stream) _log.Raw(text.ToString());
            else _buffer.Append(text);
        }
    }
}

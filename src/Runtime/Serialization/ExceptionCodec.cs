using System.Collections.Frozen;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Serialization;

/// <summary>A grain on another silo threw an exception whose type this silo cannot recreate.</summary>
public sealed class RemoteGrainException(string typeName, string message, string? remoteStackTrace)
    : Exception($"{typeName}: {message}")
{
    /// <summary>Full name of the exception type thrown remotely.</summary>
    public string TypeName { get; } = typeName;

    /// <summary>Stack trace on the silo that threw.</summary>
    public string? RemoteStackTrace { get; } = remoteStackTrace;
}

/// <summary>
/// Exceptions cross silos as type name, message, parameter name and stack text; the caller gets the
/// same exception type back for the runtime's own and the common framework types.
/// </summary>
public static class ExceptionCodec
{
    private static readonly FrozenDictionary<string, Func<string, string?, Exception>> Known = new Dictionary<string, Func<string, string?, Exception>>
    {
        [typeof(InvalidOperationException).FullName!] = (m, _) => new InvalidOperationException(m),
        [typeof(ArgumentException).FullName!] = (m, p) => new ArgumentException(StripParam(m, p), p),
        [typeof(ArgumentNullException).FullName!] = (m, p) => new ArgumentNullException(p, StripParam(m, p)),
        [typeof(ArgumentOutOfRangeException).FullName!] = (m, p) => new ArgumentOutOfRangeException(p, StripParam(m, p)),
        [typeof(KeyNotFoundException).FullName!] = (m, _) => new KeyNotFoundException(m),
        [typeof(NotSupportedException).FullName!] = (m, _) => new NotSupportedException(m),
        [typeof(NotImplementedException).FullName!] = (m, _) => new NotImplementedException(m),
        [typeof(FormatException).FullName!] = (m, _) => new FormatException(m),
        [typeof(TimeoutException).FullName!] = (m, _) => new TimeoutException(m),
        [typeof(OperationCanceledException).FullName!] = (m, _) => new OperationCanceledException(m),
        [typeof(TaskCanceledException).FullName!] = (m, _) => new TaskCanceledException(m),
        [typeof(UnauthorizedAccessException).FullName!] = (m, _) => new UnauthorizedAccessException(m),
        [typeof(InconsistentStateException).FullName!] = (m, _) => new InconsistentStateException(m),
        [typeof(ObserverNotFoundException).FullName!] = (m, _) => new ObserverNotFoundException(m),
        [typeof(GrainActivationException).FullName!] = (m, _) => new GrainActivationException(m),
        [typeof(RuntimeRejectedException).FullName!] = (m, _) => new RuntimeRejectedException(m),
        [typeof(SiloUnavailableException).FullName!] = (m, _) => new SiloUnavailableException(m),
        [typeof(SiloOverloadedException).FullName!] = (m, _) => new SiloOverloadedException(m),
        [typeof(MessageTooLargeException).FullName!] = (m, _) => new MessageTooLargeException(m),
        [typeof(StorageUnavailableException).FullName!] = (_, _) => new StorageUnavailableException(),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static void Write(ref MessageWriter writer, Exception error)
    {
        if (error is RemoteGrainException remote)
        {
            writer.WriteString(remote.TypeName);
            writer.WriteString(remote.Message[(remote.TypeName.Length + 2)..]);
            writer.WriteString(null);
            writer.WriteString(remote.RemoteStackTrace);
            return;
        }
        if (error is StorageUnavailableException)
        {
            // Every provider's kind travels as the one the caller knows; its detail (servers, paths) stays in this silo's log.
            writer.WriteString(typeof(StorageUnavailableException).FullName);
            writer.WriteString(StorageUnavailableException.ClientMessage);
            writer.WriteString(null);
            writer.WriteString(null);
            return;
        }
        writer.WriteString(error.GetType().FullName ?? error.GetType().Name);
        writer.WriteString(error.Message);
        writer.WriteString((error as ArgumentException)?.ParamName);
        writer.WriteString(error.StackTrace);
    }

    public static Exception Read(ref MessageReader reader)
    {
        var type = reader.ReadString() ?? "System.Exception";
        var message = reader.ReadString() ?? "";
        var param = reader.ReadString();
        var stack = reader.ReadString();
        return Known.TryGetValue(type, out var create) ? create(message, param) : new RemoteGrainException(type, message, stack);
    }

    // ArgumentException appends " (Parameter 'x')" to its message; the recreated one appends it again.
    private static string StripParam(string message, string? param)
    {
        if (param is null) return message;
        var suffix = $" (Parameter '{param}')";
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }
}

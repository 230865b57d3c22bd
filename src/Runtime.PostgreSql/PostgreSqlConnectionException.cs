namespace Platform.Runtime.PostgreSql;

/// <summary>
/// PostgreSQL could not be reached, refused the login, was shutting down or dropped the connection. The message is the
/// client's "storage unavailable"; <see cref="StorageUnavailableException.Detail"/> names host and port (never the password).
/// </summary>
public sealed class PostgreSqlConnectionException(string detail, Exception inner) : StorageUnavailableException(detail, inner);

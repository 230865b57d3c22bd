namespace Platform.Runtime.PostgreSql;

/// <summary>PostgreSQL could not be reached, refused the login, or dropped the connection; the message names host and port.</summary>
public sealed class PostgreSqlConnectionException(string message, Exception inner) : Exception(message, inner);

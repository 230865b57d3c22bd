namespace Platform.Runtime.Sqlite;

/// <summary>A write that changes nothing but must reach the disk: whether a file that was full takes writes again.</summary>
internal sealed class SqliteProbe(CancellationToken cancellationToken) : SqliteWrite<bool>(cancellationToken)
{
    public override string Description => "checking that the file takes writes again";

    protected override bool Apply(SqliteWriteContext context)
    {
        context.Command("UPDATE etag_sequence SET last_etag = last_etag WHERE id = 1").ExecuteNonQuery();
        return true;
    }
}

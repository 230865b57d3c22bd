using Npgsql;

namespace Platform.Runtime.PostgreSql;

/// <summary>One queued write: one statement in a group-commit batch, answered once its batch has committed.</summary>
internal abstract class PostgreSqlWrite(CancellationToken cancellationToken)
{
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>What this write does, naming its grain, for error messages ("writing grain counter/abc state 'state'").</summary>
    public abstract string Description { get; }

    /// <summary>
    /// The write's one statement. An ETag mismatch must not raise (that would abort the whole batch): the
    /// statement returns no row instead, and <see cref="ConflictLookup"/> explains it after commit.
    /// </summary>
    public abstract NpgsqlBatchCommand CreateStatement();

    /// <summary>Reads this write's result set; the outcome reaches the caller only after commit.</summary>
    public abstract ValueTask ReadResultAsync(NpgsqlDataReader reader);

    /// <summary>After commit: a statement that fetches what a conflicted write's error must say, or null when the write took effect.</summary>
    public virtual NpgsqlBatchCommand? ConflictLookup() => null;

    /// <summary>Reads the result of <see cref="ConflictLookup"/> (null when the lookup itself failed) and fails the caller.</summary>
    public virtual ValueTask FailConflictAsync(NpgsqlDataReader? reader) => ValueTask.CompletedTask;

    /// <summary>The batch committed: answer the caller.</summary>
    public abstract void Complete();

    public abstract void Fail(Exception error);

    public abstract void Cancel();
}

/// <summary>A queued write whose caller awaits a <typeparamref name="TResult"/>.</summary>
internal abstract class PostgreSqlWrite<TResult>(CancellationToken cancellationToken) : PostgreSqlWrite(cancellationToken)
{
    // Continuations must not run on the writer loop: they would delay every later batch.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TResult> Task => _completion.Task;

    /// <summary>What <see cref="Complete"/> hands the caller; set by <see cref="PostgreSqlWrite.ReadResultAsync"/>.</summary>
    protected TResult? Result { get; set; }

    public override void Complete() => _completion.TrySetResult(Result!);

    public sealed override void Fail(Exception error) => _completion.TrySetException(error);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);
}

namespace Platform.Agent.Deploy;

/// <summary>Where <c>s3://</c> sources are read from; credentials and region come from the AWS SDK's standard chain.</summary>
public sealed record S3SourceOptions
{
    /// <summary>An S3-compatible endpoint (MinIO, Ceph, s3rver); null: AWS itself. Default from <c>AWS_ENDPOINT_URL_S3</c>, then <c>AWS_ENDPOINT_URL</c>.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Address buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>; null: only with an <see cref="Endpoint"/>.</summary>
    public bool? ForcePathStyle { get; init; }
}

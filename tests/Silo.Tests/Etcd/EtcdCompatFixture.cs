namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// The etcd compatibility tests share one pair of servers and run one after another: the differential tests
/// compare index numbers relative to the store's index before each sequence, so nothing else may write meanwhile.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EtcdCompatCollection : ICollectionFixture<EtcdCompatFixture>
{
    public const string Name = "EtcdCompat";
}

/// <summary>
/// A reference etcd and the subject under test. The subject is a Platform silo when the silo serves /v2/keys,
/// otherwise a second etcd, which checks the harness itself (etcd against etcd must show no difference).
/// <c>PLATFORM_ETCD_SUBJECT=platform</c> or <c>=etcd</c> forces the choice (with <c>platform</c>, a silo without
/// the keys API fails the tests instead of falling back).
/// </summary>
public sealed class EtcdCompatFixture : IAsyncLifetime
{
    public const string SubjectVariable = "PLATFORM_ETCD_SUBJECT";

    private IKeysServer? _reference;
    private IKeysServer? _subject;

    public IKeysServer Reference => _reference ?? throw new InvalidOperationException("fixture not started");
    public IKeysServer Subject => _subject ?? throw new InvalidOperationException("fixture not started");

    /// <summary>Both servers, reference first.</summary>
    public IReadOnlyList<IKeysServer> Servers => [Reference, Subject];

    public async Task InitializeAsync()
    {
        var choice = Environment.GetEnvironmentVariable(SubjectVariable)?.Trim().ToLowerInvariant() ?? "";
        if (choice is not ("" or "platform" or "etcd"))
            throw new InvalidOperationException($"{SubjectVariable}='{choice}'; expected 'platform', 'etcd' or unset");
        var reference = EtcdServer.StartAsync("reference");
        var subject = StartSubjectAsync(choice);
        try
        {
            await Task.WhenAll(reference, subject);
        }
        catch
        {
            if (reference.IsCompletedSuccessfully) await reference.Result.DisposeAsync();
            if (subject.IsCompletedSuccessfully) await subject.Result.DisposeAsync();
            throw;
        }
        (_reference, _subject) = (reference.Result, subject.Result);
    }

    private static async Task<IKeysServer> StartSubjectAsync(string choice)
    {
        if (choice != "etcd")
        {
            var silo = await PlatformKeysServer.StartAsync();
            if (choice == "platform" || await silo.ServesKeysApiAsync()) return silo;
            await silo.DisposeAsync();
        }
        var etcd = await EtcdServer.StartAsync("subject");
        try
        {
            await OffsetIndexAsync(etcd);
            return etcd;
        }
        catch
        {
            await etcd.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Moves a second etcd's index away from the reference's, so that etcd against etcd still proves the index
    /// normalisation (two fresh etcds would otherwise number everything alike). A hidden key stays out of listings.
    /// </summary>
    private static async Task OffsetIndexAsync(IKeysServer etcd)
    {
        const int Changes = 7;
        for (var i = 0; i < Changes; i++)
        {
            using var body = new FormUrlEncodedContent([new("value", "offset")]);
            using var response = await etcd.Http.PutAsync("/v2/keys/_compat_index_offset", body);
            response.EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync()
    {
        if (_subject is not null) await _subject.DisposeAsync();
        if (_reference is not null) await _reference.DisposeAsync();
    }
}

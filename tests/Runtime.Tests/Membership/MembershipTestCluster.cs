using System.Diagnostics;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>
/// Membership services of several silos in one process over one shared table, each with a prober the test
/// controls and a table wrapper it can break. No sockets: silos are addresses only.
/// </summary>
public sealed class MembershipTestCluster(MembershipOptions options, IMembershipTable? table = null) : IAsyncDisposable
{
    private readonly List<Member> _members = [];

    /// <summary>Short intervals, so a killed silo is declared Dead in well under a second.</summary>
    public static MembershipOptions FastOptions() => new()
    {
        ClusterId = "test",
        IAmAliveInterval = TimeSpan.FromMilliseconds(100),
        TableRefreshInterval = TimeSpan.FromMilliseconds(100),
        ProbeInterval = TimeSpan.FromMilliseconds(100),
        ProbeTimeout = TimeSpan.FromMilliseconds(100),
        MissedProbesLimit = 3,
        ProbedSilos = 3,
        VotesForDeathDeclaration = 2,
        DeathVoteExpiration = TimeSpan.FromSeconds(5),
        IAmAliveStaleAfter = TimeSpan.FromSeconds(2),
        DefunctSiloExpiration = TimeSpan.FromHours(1),
    };

    /// <summary>The table every silo shares.</summary>
    public IMembershipTable Table { get; } = table ?? new MemoryMembershipTable(options.ClusterId);

    public MembershipOptions Options => options;

    public IReadOnlyList<Member> Members => _members;

    /// <summary>Starts a silo on 127.0.0.1:<paramref name="port"/> and, unless told otherwise, makes it Active.</summary>
    public async Task<Member> StartSiloAsync(int port, long generation = 1, bool activate = true)
    {
        var silo = new SiloAddress("127.0.0.1", port, generation);
        var prober = new ControlledSiloProber();
        var table = new FailingMembershipTable(Table);
        var log = new RecordingLogger();
        var service = new MembershipService(table, prober, silo, $"silo-{port}", $"http://127.0.0.1:{port + 1000}", options, log);
        var member = new Member(service, prober, table, log);
        _members.Add(member);
        await service.StartAsync(CancellationToken.None);
        if (activate)
        {
            await service.BecomeActiveAsync();
        }

        return member;
    }

    /// <summary>Starts silos on 11001, 11002, … and waits until every one sees all of them Active at one version.</summary>
    public async Task<Member[]> StartActiveSilosAsync(int count)
    {
        var started = new Member[count];
        for (var i = 0; i < count; i++)
        {
            started[i] = await StartSiloAsync(11001 + i);
        }

        await WaitUntilAsync(() => ViewsAgree(started) && started[0].Service.CurrentView.ActiveSilos.Count == count, TimeSpan.FromSeconds(10), $"{count} silos to agree on {count} active");
        return started;
    }

    /// <summary>No silo can reach <paramref name="silo"/> any more.</summary>
    public void MakeUnreachable(SiloAddress silo)
    {
        foreach (var member in _members)
        {
            member.Prober.MakeUnreachable(silo);
        }
    }

    /// <summary>
    /// Waits until each of <paramref name="probers"/> has sent <paramref name="rounds"/> more probes to <paramref name="target"/>:
    /// whatever those rounds could have decided, they have had the chance to.
    /// </summary>
    public static Task<TimeSpan> WaitForProbeRoundsAsync(IReadOnlyList<Member> probers, SiloAddress target, int rounds, string what)
    {
        var start = probers.Select(p => p.Prober.ProbesOf(target)).ToArray();
        return WaitUntilAsync(() => probers.Select((p, i) => p.Prober.ProbesOf(target) >= start[i] + rounds).All(x => x), TimeSpan.FromSeconds(10), what);
    }

    public static bool ViewsAgree(IEnumerable<Member> members)
    {
        var views = members.Select(m => m.Service.CurrentView).ToArray();
        return views.All(v => v.Version == views[0].Version);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; returns how long that took, or fails naming what was awaited.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            }

            await Task.Delay(10);
        }

        return clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            await member.Service.DisposeAsync();
        }
    }

    /// <summary>One silo's membership service with the prober, table wrapper and log the test controls.</summary>
    public sealed record Member(MembershipService Service, ControlledSiloProber Prober, FailingMembershipTable Table, RecordingLogger Log)
    {
        public SiloAddress Silo => Service.Self;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

public sealed class MemoryGrainJournalTests : GrainJournalContract
{
    protected override Task<IGrainJournal> CreateJournalAsync() => Task.FromResult<IGrainJournal>(new MemoryGrainJournal());

    protected override Task<IGrainJournal> OpenAnotherInstanceAsync() => Task.FromResult(Journal);

    [Fact]
    public void AddMemoryGrainJournal_registers_one_singleton_replacing_any_other()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGrainJournal>(new MemoryGrainJournal());

        services.AddMemoryGrainJournal();

        Assert.Single(services, d => d.ServiceType == typeof(IGrainJournal));
        using var provider = services.BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<IGrainJournal>(), provider.GetRequiredService<IGrainJournal>());
        Assert.IsType<MemoryGrainJournal>(provider.GetRequiredService<IGrainJournal>());
    }
}

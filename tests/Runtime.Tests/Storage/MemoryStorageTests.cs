using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Tests.Storage;

public sealed class MemoryGrainStorageTests : GrainStorageContract
{
    protected override Task<IGrainStorage> CreateStorageAsync() => Task.FromResult<IGrainStorage>(new MemoryGrainStorage());
}

public sealed class MemoryReminderTableTests : ReminderTableContract
{
    protected override Task<IReminderTable> CreateTableAsync() => Task.FromResult<IReminderTable>(new MemoryReminderTable());
}

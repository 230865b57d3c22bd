using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Tests.Storage;

public sealed class GrainStorageRegistryTests
{
    [Fact]
    public void Get_null_resolves_the_Default_provider()
    {
        using var services = new ServiceCollection().AddMemoryGrainStorage().AddMemoryGrainStorage("Other").BuildServiceProvider();
        var registry = services.GetRequiredService<IGrainStorageRegistry>();

        Assert.Same(services.GetRequiredKeyedService<IGrainStorage>("Default"), registry.Get(null));
        Assert.Same(registry.Get("Default"), registry.Get(null));
    }

    [Fact]
    public void Get_by_name_resolves_that_provider_once()
    {
        using var services = new ServiceCollection().AddMemoryGrainStorage().AddMemoryGrainStorage("Archive").BuildServiceProvider();
        var registry = services.GetRequiredService<IGrainStorageRegistry>();

        Assert.NotSame(registry.Get("Default"), registry.Get("Archive"));
        Assert.Same(registry.Get("Archive"), registry.Get("Archive"));
    }

    [Fact]
    public void Unknown_name_throws_naming_the_provider_and_the_registered_names()
    {
        using var services = new ServiceCollection().AddMemoryGrainStorage().AddMemoryGrainStorage("Archive").BuildServiceProvider();
        var registry = services.GetRequiredService<IGrainStorageRegistry>();

        var error = Assert.Throws<InvalidOperationException>(() => registry.Get("Missing"));

        Assert.Contains("'Missing'", error.Message);
        Assert.Contains("'Archive', 'Default'", error.Message);
    }

    [Fact]
    public void AddSqliteGrainStorage_registers_a_named_provider_with_its_options()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "state.db");
        using var services = new ServiceCollection().AddSqliteGrainStorage("Default", o => o.DataSource = path).BuildServiceProvider();

        var storage = Assert.IsType<SqliteGrainStorage>(services.GetRequiredService<IGrainStorageRegistry>().Get(null));

        Assert.Equal(path, storage.FilePath);
    }

    [Fact]
    public void AddSqliteReminderTable_replaces_the_memory_table()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "reminders.db");
        using var services = new ServiceCollection()
            .AddMemoryReminderTable()
            .AddSqliteReminderTable(o => o.DataSource = path)
            .BuildServiceProvider();

        var table = Assert.IsType<SqliteReminderTable>(services.GetRequiredService<IReminderTable>());

        Assert.Equal(path, table.FilePath);
    }

    [Fact]
    public void AddPostgreSqlGrainStorage_and_reminder_table_register_without_connecting_and_dispose_synchronously()
    {
        using var services = new ServiceCollection()
            .AddPostgreSqlGrainStorage("Cluster", o => o.ConnectionString = "Host=127.0.0.1;Port=1;Username=nobody")
            .AddPostgreSqlReminderTable(o => o.ConnectionString = "Host=127.0.0.1;Port=1;Username=nobody")
            .BuildServiceProvider();

        Assert.IsType<PostgreSqlGrainStorage>(services.GetRequiredService<IGrainStorageRegistry>().Get("Cluster"));
        Assert.IsType<PostgreSqlReminderTable>(services.GetRequiredService<IReminderTable>());
    }

    [Fact]
    public void AddMemoryReminderTable_registers_one_table()
    {
        using var services = new ServiceCollection().AddMemoryReminderTable().AddMemoryReminderTable().BuildServiceProvider();

        Assert.Single(services.GetServices<IReminderTable>());
        Assert.IsType<MemoryReminderTable>(services.GetRequiredService<IReminderTable>());
    }
}

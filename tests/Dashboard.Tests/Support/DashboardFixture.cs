namespace Platform.Dashboard.Tests.Support;

/// <summary>A fleet (silo and agents) and a browser, shared by the tests of a class.</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public DashboardFleet Fleet { get; } = new();

    public DashboardBrowser Browser { get; } = new();

    public async Task InitializeAsync()
    {
        await Fleet.InitializeAsync();
        await Browser.InitializeAsync();
    }

    /// <summary>Opens the dashboard at <c>#/<paramref name="hash"/></c> and waits for <paramref name="view"/>.</summary>
    public Task<DashboardPage> OpenAsync(string hash, string view) => Browser.OpenAsync($"{Fleet.Url}/#/{hash}", view);

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Fleet.DisposeAsync();
    }
}

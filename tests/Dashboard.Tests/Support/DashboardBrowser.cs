using Microsoft.Playwright;

namespace Platform.Dashboard.Tests.Support;

/// <summary>Debian's Chromium (<c>/usr/bin/chromium</c>), headless, driven by Playwright: one browser for a test class.</summary>
public sealed class DashboardBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (test.sh does)");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // The tests run as root, where Chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
    }

    /// <summary>Opens <paramref name="url"/> in a new context and waits until the view named <paramref name="view"/> is mounted.</summary>
    public async Task<DashboardPage> OpenAsync(string url, string view)
    {
        var opened = await NewPageAsync();
        await opened.Page.GotoAsync(url);
        await opened.WaitForViewAsync(view);
        return opened;
    }

    /// <summary>A new tab in a context of its own (its own sessionStorage), not yet at any address.</summary>
    public async Task<DashboardPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        return new DashboardPage(context, page);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>One tab of the dashboard: every console error and uncaught page error is kept, for the tests to assert none.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _problems = [];

    public DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (_problems) _problems.Add($"console error: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) =>
        {
            lock (_problems) _problems.Add($"page error: {error}");
        };
    }

    public IPage Page { get; }

    /// <summary>Waits until the shell has mounted <paramref name="view"/> and its first data is on the page.</summary>
    public Task WaitForViewAsync(string view) => Page.WaitForSelectorAsync($"section.view[data-view='{view}'][data-ready]");

    /// <summary>Fails with every console and page error seen since the page opened.</summary>
    public void AssertNoConsoleErrors()
    {
        lock (_problems) Assert.True(_problems.Count == 0, string.Join('\n', _problems));
    }

    /// <summary>As <see cref="AssertNoConsoleErrors"/>, allowing the browser's own line for each answer with <paramref name="status"/> (an expected refusal).</summary>
    public void AssertNoConsoleErrorsBut(int status)
    {
        lock (_problems)
        {
            var others = _problems.Where(p => !p.Contains($"the server responded with a status of {status}", StringComparison.Ordinal)).ToList();
            Assert.True(others.Count == 0, string.Join('\n', others));
        }
    }

    /// <summary>Writes the page as <c>.test-results/screenshots/NAME.png</c> under the repository (not committed).</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var dir = Path.Combine(RepositoryRoot(), ".test-results", "screenshots");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}

using System.Globalization;

namespace Platform.Dashboard.Bench;

/// <summary>The driver's command line.</summary>
public sealed class DashboardOptions
{
    public const string Chromium = "/usr/bin/chromium";

    private const string Usage = """
        usage: Platform.Dashboard.Bench [options]
          --nodes N        simulated nodes connected (default 1000)
          --builds N       finished builds created through the API (default 10000; 0: none, no builds view)
          --in-flight N    builds running at once while they are created (default 16)
          --runs N         timed loads of each view after one untimed (default 7)
          --pages N        open nodes views for the CPU figures (default 5; 0: skip them)
          --seconds S      length of each CPU window (default 20)
          --repeats N      rounds of CPU windows, without and with the pages (default 2)
          --profile        also profile each view's first render in the page (DevTools sampling profiler)
          --silo PATH      Platform.Silo.dll (default src/Silo/bin/Release/net10.0/Platform.Silo.dll)
        """;

    public int Nodes { get; private set; } = 1000;
    public int Builds { get; private set; } = 10_000;
    public int InFlight { get; private set; } = 16;
    public int Runs { get; private set; } = 7;
    public int Pages { get; private set; } = 5;
    public double Seconds { get; private set; } = 20;
    public int Repeats { get; private set; } = 2;
    public bool Profile { get; private set; }
    public string SiloDll { get; private set; } = "";

    /// <summary>The options, or null (usage printed) when the command line is not valid.</summary>
    public static DashboardOptions? Parse(string[] args)
    {
        var root = FindRoot();
        var o = new DashboardOptions { SiloDll = Path.Combine(root, "src/Silo/bin/Release/net10.0/Platform.Silo.dll") };
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                int Count(int min) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                    ? n : throw new FormatException($"{args[i - 1]} '{args[i]}' is not a whole number of at least {min}");
                switch (args[i])
                {
                    case "--nodes": o.Nodes = Count(1); break;
                    case "--builds": o.Builds = Count(0); break;
                    case "--in-flight": o.InFlight = Count(1); break;
                    case "--runs": o.Runs = Count(1); break;
                    case "--pages": o.Pages = Count(0); break;
                    case "--seconds":
                        o.Seconds = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
                            ? s : throw new FormatException($"--seconds '{args[i]}' is not a number of seconds above 0");
                        break;
                    case "--repeats": o.Repeats = Count(1); break;
                    case "--profile": o.Profile = true; break;
                    case "--silo": o.SiloDll = Path.GetFullPath(Value()); break;
                    case "--help" or "-h":
                        Console.WriteLine(Usage);
                        return null;
                    default: throw new FormatException($"unknown option '{args[i]}'");
                }
            }
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return null;
        }
        return o;
    }

    /// <summary>The repository's root: the nearest folder up from here with Platform.sln.</summary>
    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}

using Platform.Silo.Tests.Support;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Access;

/// <summary>The search the secrets tests rely on: it must find a secret, also JSON-escaped, and say where without printing it.</summary>
public sealed class SecretScanTests
{
    [Fact]
    public void A_secret_in_an_output_fails_naming_the_secret_the_output_and_the_line_without_printing_it()
    {
        var secrets = new Dictionary<string, string> { ["token 'ci'"] = "plt_0123_abc", ["basic auth"] = "Y2k6+cGx0" };
        var outputs = new Dictionary<string, string>
        {
            ["the silo's output"] = "started\nrequest with plt_0123_abc\n",
            ["the agent's errors"] = """{"Message":"auth Y2k6\u002BcGx0"}""",
            ["the CLI's output"] = "nothing secret",
        };

        var e = Assert.Throws<TrueException>(() => SecretScan.AssertAbsent(secrets, outputs));

        Assert.Contains("token 'ci' appears in the silo's output, line 2: request with <token 'ci'>", e.Message);
        Assert.Contains("basic auth appears in the agent's errors, line 1:", e.Message);
        Assert.DoesNotContain("plt_0123_abc", e.Message);
        Assert.DoesNotContain("the CLI's output", e.Message);
        SecretScan.AssertAbsent(secrets, new Dictionary<string, string> { ["clean"] = "no secrets here" });
    }
}

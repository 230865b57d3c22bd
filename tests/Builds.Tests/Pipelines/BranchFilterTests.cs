using Platform.Builds.Pipelines;

namespace Platform.Builds.Tests.Pipelines;

public sealed class BranchFilterTests
{
    [Theory]
    [InlineData("main", "main", true)]
    [InlineData("main", "main2", false)]
    [InlineData("release/*", "release/1.0", true)]
    [InlineData("release/*", "release", false)]
    [InlineData("*-fix", "feature/a-fix", true)]
    [InlineData("!main", "dev", true)]
    [InlineData("!main", "main", false)]
    [InlineData("main dev", "dev", true)]
    [InlineData("feature/* !feature/wip*", "feature/wip-1", false)]
    [InlineData("feature/* !feature/wip*", "feature/done", true)]
    [InlineData("", "anything", true)]
    public void Branches_match_as_Buildkite_filters_them(string filter, string branch, bool matches)
    {
        Assert.Equal(matches, BranchFilter.Parse(filter).Matches(branch));
    }

    [Theory]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("**", "x", true)]
    [InlineData("a", "", false)]
    public void Glob_stars_match_any_run_of_characters(string pattern, string value, bool matches)
    {
        Assert.Equal(matches, Glob.Matches(pattern, value));
    }
}

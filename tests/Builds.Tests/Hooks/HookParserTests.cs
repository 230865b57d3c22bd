using System.Text;
using Platform.Builds.Hooks;

namespace Platform.Builds.Tests.Hooks;

public sealed class HookParserTests
{
    private static Func<string, string?> Headers(params (string Name, string Value)[] headers) =>
        name => headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static PushEvent SinglePush(HookDelivery delivery)
    {
        var pushes = Assert.IsType<HookResult.Pushes>(delivery.Result);
        return Assert.Single(pushes.Events);
    }

    [Fact]
    public void The_captured_Bitbucket_push_is_a_push_of_master_at_its_commit()
    {
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Hooks", "bitbucket-push.json"));
        var delivery = HookParser.Read(HookParser.Bitbucket, Headers(("X-Event-Key", "repo:push"), ("X-Request-UUID", "d1")), body);

        Assert.Equal("takitake/mysidia", delivery.Repository);
        Assert.Equal("d1", delivery.DeliveryId);
        var push = SinglePush(delivery);
        Assert.Equal(RefKind.Branch, push.Kind);
        Assert.Equal("master", push.Ref);
        Assert.Equal("8fb0eefc6a340d57598ca553a07fade1a10f2c30", push.Commit);
        Assert.False(push.Deleted);
    }

    [Fact]
    public void A_Bitbucket_branch_deletion_and_a_tag_are_reported_as_the_provider_reports_them()
    {
        var body = """
            {"repository":{"full_name":"team/app"},"actor":{"display_name":"Ann"},"push":{"changes":[
              {"new":null,"old":{"type":"branch","name":"old-feature","target":{"hash":"aaa"}},"created":false,"closed":true,"forced":false},
              {"new":{"type":"tag","name":"v1.2","target":{"hash":"bbb"}},"old":null,"created":true,"closed":false,"forced":false}]}}
            """u8.ToArray();
        var pushes = Assert.IsType<HookResult.Pushes>(HookParser.Read(HookParser.Bitbucket, Headers(("X-Event-Key", "repo:push")), body).Result).Events;

        Assert.Equal(2, pushes.Count);
        Assert.True(pushes[0].Deleted);
        Assert.Null(pushes[0].Commit);
        Assert.Equal("aaa", pushes[0].Before);
        Assert.Equal("old-feature", pushes[0].Ref);
        Assert.Equal(RefKind.Tag, pushes[1].Kind);
        Assert.Equal("v1.2", pushes[1].Ref);
        Assert.True(pushes[1].Created);
        Assert.Equal("Ann", pushes[1].Pusher);
    }

    [Fact]
    public void A_GitHub_push_names_branch_commit_and_delivery()
    {
        var body = """{"ref":"refs/heads/feature/x","before":"1111111111111111111111111111111111111111","after":"2222222222222222222222222222222222222222","created":false,"deleted":false,"forced":true,"repository":{"full_name":"octo/app"},"pusher":{"name":"octocat"}}"""u8.ToArray();
        var delivery = HookParser.Read(HookParser.GitHub, Headers(("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "guid-1")), body);

        var push = SinglePush(delivery);
        Assert.Equal("octo/app", push.Repository);
        Assert.Equal("feature/x", push.Ref);
        Assert.Equal("2222222222222222222222222222222222222222", push.Commit);
        Assert.True(push.Forced);
        Assert.Equal("guid-1", push.DeliveryId);
    }

    [Fact]
    public void A_GitHub_branch_deletion_has_no_commit_to_build()
    {
        var body = """{"ref":"refs/heads/gone","before":"1111111111111111111111111111111111111111","after":"0000000000000000000000000000000000000000","deleted":true,"repository":{"full_name":"octo/app"}}"""u8.ToArray();
        var push = SinglePush(HookParser.Read(HookParser.GitHub, Headers(("X-GitHub-Event", "push")), body));

        Assert.True(push.Deleted);
        Assert.Null(push.Commit);
    }

    [Fact]
    public void A_GitLab_tag_push_is_a_tag()
    {
        var body = """{"object_kind":"tag_push","ref":"refs/tags/v2","before":"0000000000000000000000000000000000000000","after":"3333333333333333333333333333333333333333","project":{"path_with_namespace":"group/sub/app"},"user_username":"jo"}"""u8.ToArray();
        var delivery = HookParser.Read(HookParser.GitLab, Headers(("X-Gitlab-Event", "Tag Push Hook"), ("Idempotency-Key", "k1"), ("X-Gitlab-Event-UUID", "u1")), body);

        var push = SinglePush(delivery);
        Assert.Equal(RefKind.Tag, push.Kind);
        Assert.Equal("v2", push.Ref);
        Assert.Equal("group/sub/app", push.Repository);
        Assert.True(push.Created);
        Assert.Equal("k1", delivery.DeliveryId);
    }

    [Theory]
    [InlineData(HookParser.GitHub, "X-GitHub-Event", "ping")]
    [InlineData(HookParser.GitHub, "X-GitHub-Event", "issues")]
    [InlineData(HookParser.Bitbucket, "X-Event-Key", "pullrequest:created")]
    [InlineData(HookParser.GitLab, "X-Gitlab-Event", "Merge Request Hook")]
    public void Other_event_types_are_ignored_with_the_reason(string provider, string header, string eventType)
    {
        var delivery = HookParser.Read(provider, Headers((header, eventType)), "{}"u8.ToArray());

        var ignored = Assert.IsType<HookResult.Ignored>(delivery.Result);
        Assert.Contains(eventType, ignored.Reason);
    }

    [Theory]
    [InlineData("not json", "the body is not JSON")]
    [InlineData("[1,2]", "the body is not a JSON object")]
    [InlineData("""{"ref":"refs/heads/a","before":"1","after":"2"}""", "field 'repository' is missing")]
    [InlineData("""{"ref":"refs/heads/a","before":"1","after":"2","repository":{"full_name":5}}""", "field 'repository.full_name' must be a non-empty string")]
    [InlineData("""{"ref":"main","before":"1","after":"2","repository":{"full_name":"o/r"}}""", "ref is 'main'; expected refs/heads/BRANCH or refs/tags/TAG")]
    public void A_GitHub_push_body_without_its_fields_is_invalid_naming_the_field(string body, string expected)
    {
        var delivery = HookParser.Read(HookParser.GitHub, Headers(("X-GitHub-Event", "push")), Encoding.UTF8.GetBytes(body));

        var invalid = Assert.IsType<HookResult.Invalid>(delivery.Result);
        Assert.Contains(expected, invalid.Reason);
        Assert.Null(delivery.Repository);
    }

    [Fact]
    public void A_Bitbucket_change_with_an_unknown_ref_type_is_invalid_naming_the_change()
    {
        var body = """{"repository":{"full_name":"t/a"},"push":{"changes":[{"new":{"type":"commit","name":"x","target":{"hash":"a"}},"old":null}]}}"""u8.ToArray();
        var invalid = Assert.IsType<HookResult.Invalid>(HookParser.Read(HookParser.Bitbucket, Headers(("X-Event-Key", "repo:push")), body).Result);

        Assert.Equal("push.changes[0].new.type is 'commit'; expected branch or tag", invalid.Reason);
    }

    [Fact]
    public void A_delivery_without_its_event_header_is_invalid()
    {
        var invalid = Assert.IsType<HookResult.Invalid>(HookParser.Read(HookParser.GitLab, Headers(), "{}"u8.ToArray()).Result);
        Assert.Contains("X-Gitlab-Event is missing", invalid.Reason);
    }
}

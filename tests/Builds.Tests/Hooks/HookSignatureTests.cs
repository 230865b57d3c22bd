using System.Text;
using Platform.Builds.Hooks;

namespace Platform.Builds.Tests.Hooks;

public sealed class HookSignatureTests
{
    private static readonly byte[] s_body = "{\"ref\":\"refs/heads/main\"}"u8.ToArray();

    [Fact]
    public void A_signature_made_with_the_secret_verifies_and_is_GitHubs_documented_value()
    {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
        var header = HookSignature.SignHmacSha256("It's a Secret to Everybody", "Hello, World!"u8);
        Assert.Equal("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", header);
        Assert.True(HookSignature.VerifyHmacSha256("It's a Secret to Everybody", "Hello, World!"u8, header));
        Assert.True(HookSignature.VerifyHmacSha256("It's a Secret to Everybody", "Hello, World!"u8, header.ToUpperInvariant().Replace("SHA256=", "sha256=")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha1=0123")]
    [InlineData("sha256=")]
    [InlineData("sha256=zz07107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1")]
    public void A_missing_or_malformed_signature_does_not_verify(string? header)
    {
        Assert.False(HookSignature.VerifyHmacSha256("secret", s_body, header));
    }

    [Fact]
    public void A_signature_of_another_body_or_with_another_secret_does_not_verify()
    {
        var header = HookSignature.SignHmacSha256("secret", s_body);
        Assert.False(HookSignature.VerifyHmacSha256("other", s_body, header));
        Assert.False(HookSignature.VerifyHmacSha256("secret", Encoding.UTF8.GetBytes("{\"ref\":\"refs/heads/evil\"}"), header));
    }

    [Fact]
    public void A_GitLab_token_verifies_only_when_equal()
    {
        Assert.True(HookSignature.VerifyToken("tok-123", "tok-123"));
        Assert.False(HookSignature.VerifyToken("tok-123", "tok-124"));
        Assert.False(HookSignature.VerifyToken("tok-123", "tok-1234"));
        Assert.False(HookSignature.VerifyToken("tok-123", null));
    }
}

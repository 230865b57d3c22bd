using System.Text;

namespace Platform.Silo.Tests.Support;

/// <summary>Searches captured output for secret values and fails naming each secret and where it appears, never printing it.</summary>
public static class SecretScan
{
    /// <summary>Fails if any value of <paramref name="secrets"/> (what it is → value) occurs in any of <paramref name="outputs"/> (where → text).</summary>
    public static void AssertAbsent(IReadOnlyDictionary<string, string> secrets, IReadOnlyDictionary<string, string> outputs)
    {
        var found = new StringBuilder();
        foreach (var (where, text) in outputs)
        {
            var lines = text.Split('\n');
            foreach (var (what, secret) in secrets)
            {
                if (secret.Length == 0) continue;
                // JSON log lines escape some characters ('+' of base64 as \u002B): the escaped form counts too.
                var escaped = System.Text.Json.JsonEncodedText.Encode(secret).ToString();
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (var form in escaped == secret ? [secret] : new[] { secret, escaped })
                    {
                        if (!lines[i].Contains(form, StringComparison.Ordinal)) continue;
                        found.AppendLine($"{what} appears in {where}, line {i + 1}: {lines[i].Replace(form, "<" + what + ">", StringComparison.Ordinal).TrimEnd()}");
                    }
                }
            }
        }
        Assert.True(found.Length == 0, "secrets were written out:\n" + found);
    }
}

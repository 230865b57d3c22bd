namespace Platform.Silo.Access;

/// <summary>Text for a response header such as <c>X-Platform-Denied</c>.</summary>
public static class HeaderText
{
    /// <summary>Printable ASCII only: anything else (a control character, a non-ASCII letter) would make the header invalid.</summary>
    public static string Safe(string text)
        => string.Create(text.Length, text, static (span, t) =>
        {
            for (var i = 0; i < t.Length; i++) span[i] = t[i] is >= ' ' and <= '~' ? t[i] : '?';
        });
}

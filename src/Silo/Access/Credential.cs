using System.Text;

namespace Platform.Silo.Access;

/// <summary>
/// A secret as a request presents it, and the user name when it came as basic auth (etcd's <c>--username
/// name:secret</c>: the user name is the token's name, the password its secret).
/// </summary>
public readonly record struct Credential(string Secret, string? User)
{
    /// <summary>
    /// Reads an <c>Authorization</c> header value: <c>Bearer SECRET</c> or <c>Basic base64(name:SECRET)</c>. Null when
    /// the header is empty; a header of another form gives <paramref name="problem"/>.
    /// </summary>
    public static Credential? FromAuthorization(string? header, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(header)) return null;
        var value = header.AsSpan().Trim();
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return new Credential(value[7..].Trim().ToString(), null);
        if (value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value[6..].Trim().ToString()));
            }
            catch (FormatException)
            {
                problem = "the Authorization header's basic credentials are not base64";
                return null;
            }
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                problem = "the Authorization header's basic credentials have no ':' between user name and password";
                return null;
            }
            return new Credential(decoded[(colon + 1)..], decoded[..colon]);
        }
        var space = value.IndexOf(' ');
        problem = $"the Authorization header's scheme '{(space < 0 ? value : value[..space]).ToString()}' is not supported; expected 'Bearer <token>' or basic auth with the token's name and secret";
        return null;
    }
}

using System.Globalization;
using System.Text;

namespace Berth.Core.Auth;

/// <summary>Makes valid Berth user names out of what identity providers send (e-mail addresses, display-style names).</summary>
public static class UserNames
{
    public const int MaxLength = 64;

    /// <summary>
    /// A valid user name from <paramref name="value"/>: the part before an '@', lowercase, accented Latin
    /// letters spelled in ASCII, every run of other characters turned into one '-' (or the '.', '_' it starts with),
    /// at most <see cref="MaxLength"/> characters; <c>user</c> when nothing is left.
    /// </summary>
    public static string FromClaim(string? value)
    {
        var text = value ?? "";
        if (text.IndexOf('@', StringComparison.Ordinal) is > 0 and var at)
        {
            text = text[..at];
        }

        var name = new StringBuilder(Math.Min(text.Length, MaxLength));
        var pendingSeparator = '\0';
        foreach (var c in text)
        {
            var lower = char.ToLowerInvariant(c);
            if ((lower is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? lower.ToString() : Latin(lower)) is { } letters)
            {
                if (pendingSeparator != '\0' && name.Length > 0)
                {
                    name.Append(pendingSeparator);
                }

                pendingSeparator = '\0';
                name.Append(letters);
            }
            else if (pendingSeparator == '\0')
            {
                pendingSeparator = lower is '.' or '_' or '-' ? lower : '-';
            }
        }

        var result = name.ToString();
        return result.Length == 0 ? "user" : Truncate(result, MaxLength);
    }

    /// <summary><paramref name="name"/> with <c>-&lt;n&gt;</c> appended, shortened so the result stays valid.</summary>
    public static string WithSuffix(string name, int n)
    {
        var suffix = "-" + n.ToString(CultureInfo.InvariantCulture);
        return Truncate(name, MaxLength - suffix.Length) + suffix;
    }

    /// <summary>
    /// ASCII spellings of the accented Latin letters common in names. (The server runs with invariant
    /// globalization, where Unicode decomposition is not available.)
    /// </summary>
    private static string? Latin(char c) => c switch
    {
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'ā' or 'ą' or 'ă' => "a",
        'æ' => "ae",
        'ç' or 'ć' or 'č' => "c",
        'ď' or 'đ' or 'ð' => "d",
        'è' or 'é' or 'ê' or 'ë' or 'ē' or 'ę' or 'ě' => "e",
        'ì' or 'í' or 'î' or 'ï' or 'ī' or 'ı' => "i",
        'ł' or 'ľ' or 'ĺ' => "l",
        'ñ' or 'ń' or 'ň' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'ō' or 'ő' => "o",
        'œ' => "oe",
        'ŕ' or 'ř' => "r",
        'ś' or 'š' or 'ş' or 'ș' => "s",
        'ß' => "ss",
        'ť' or 'ţ' or 'ț' => "t",
        'þ' => "th",
        'ù' or 'ú' or 'û' or 'ü' or 'ū' or 'ů' or 'ű' => "u",
        'ý' or 'ÿ' => "y",
        'ź' or 'ż' or 'ž' => "z",
        _ => null,
    };

    private static string Truncate(string name, int length) =>
        name.Length <= length ? name : name[..length].TrimEnd('-', '_', '.');
}

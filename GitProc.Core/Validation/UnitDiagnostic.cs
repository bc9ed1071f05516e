using System.Globalization;
using System.Text;

namespace GitProc.Validation;

/// <summary>One error or warning of a checked set of unit files.</summary>
/// <param name="File">The unit file (as given in its <see cref="UnitSource"/>), or the path that could not be read.</param>
/// <param name="Line">The 1-based line; 0 when the finding concerns the whole file.</param>
/// <param name="Key">The key concerned (<c>Restart</c>, <c>Requires</c>), if any.</param>
/// <param name="Message">What is wrong, as a sentence, with the offending value where there is one.</param>
public sealed record UnitDiagnostic(string File, int Line, string? Key, string Message)
{
    /// <summary>
    /// The finding as one line, <c>FILE:LINE: KEY: message</c>; the line and the key are left out (with their colon)
    /// when they do not apply: <c>FILE: KEY: message</c>, <c>FILE:LINE: message</c>, <c>FILE: message</c>.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder(File.Length + Message.Length + 32).Append(File);
        if (Line > 0)
        {
            text.Append(':').Append(Line.ToString(CultureInfo.InvariantCulture));
        }

        text.Append(": ");
        if (Key is not null)
        {
            text.Append(Key).Append(": ");
        }

        return text.Append(Message).ToString();
    }
}

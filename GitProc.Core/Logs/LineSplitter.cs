using System.Buffers;
using System.Text;

namespace GitProc.Logs;

/// <summary>
/// Splits stored log bytes into lines for readers (tail and follow). Lines GitProc writes are bounded, but a
/// file edited by hand may hold an endless one, so a carried partial line is cut at <see cref="MaxCarryBytes"/>.
/// </summary>
internal sealed class LineSplitter
{
    internal const int MaxCarryBytes = 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _carry = new();

    public bool HasPartial => _carry.WrittenCount > 0;

    /// <summary>Adds every line completed by <paramref name="data"/> to <paramref name="lines"/>.</summary>
    public void Split(ReadOnlySpan<byte> data, List<string> lines)
    {
        int newline;
        while ((newline = data.IndexOf((byte)'\n')) >= 0)
        {
            if (_carry.WrittenCount > 0)
            {
                _carry.Write(data[..newline]);
                lines.Add(Decode(_carry.WrittenSpan));
                _carry.ResetWrittenCount();
            }
            else
            {
                lines.Add(Decode(data[..newline]));
            }

            data = data[(newline + 1)..];
        }

        _carry.Write(data);
        if (_carry.WrittenCount > MaxCarryBytes)
        {
            lines.Add(TakePartial());
        }
    }

    /// <summary>Returns the carried bytes of an unterminated line as a line.</summary>
    public string TakePartial()
    {
        var line = Decode(_carry.WrittenSpan);
        _carry.ResetWrittenCount();
        return line;
    }

    // Bytes are stored as the service wrote them; readers get text, with invalid UTF-8 replaced by U+FFFD.
    private static string Decode(ReadOnlySpan<byte> line) => Encoding.UTF8.GetString(line);
}

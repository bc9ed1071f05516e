namespace GitProc.Ipc;

/// <summary>
/// The unit-name rule of CONTRACT §2 (only <c>[A-Za-z0-9:_.@-]</c>, no leading <c>.</c>, no <c>/</c>), checked on
/// every name a client sends before it reaches the supervisor or becomes part of a log file path.
/// </summary>
internal static class ServiceNames
{
    /// <summary>Whether <paramref name="name"/> is a valid service name.</summary>
    public static bool IsValid(string name)
    {
        if (name.Length == 0 || name[0] == '.')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.' or '@' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>
/// A user from the system's user database. Looked up with <c>getpwnam_r</c>/<c>getgrnam_r</c> rather than by
/// reading <c>/etc/passwd</c>: that goes through NSS, so users from LDAP, sssd or systemd-homed resolve exactly
/// as they do for <c>setpriv --init-groups</c> (which calls <c>initgroups</c>, also through NSS) and for systemd.
/// </summary>
/// <param name="Name">The login name.</param>
/// <param name="Uid">The user id.</param>
/// <param name="Gid">The primary group id.</param>
/// <param name="Home">The home directory.</param>
/// <param name="Shell">The login shell.</param>
/// <param name="InDatabase">Whether the user has a passwd entry (a bare numeric <c>User=</c> may not).</param>
[SupportedOSPlatform("linux")]
internal sealed record UserAccount(string Name, uint Uid, uint Gid, string Home, string Shell, bool InDatabase)
{
    /// <summary>Looks up a user by name, or by number for a numeric <c>User=</c>; <see langword="null"/> when unknown.</summary>
    public static unsafe UserAccount? Find(string user)
    {
        var numeric = uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid);
        var size = 1024;
        while (true)
        {
            var buffer = NativeMemory.Alloc((nuint)size);
            try
            {
                Interop.Processes.Passwd entry;
                Interop.Processes.Passwd* result;
                var error = numeric
                    ? Interop.Processes.GetPwUidR(uid, &entry, (byte*)buffer, (nuint)size, &result)
                    : Interop.Processes.GetPwNamR(user, &entry, (byte*)buffer, (nuint)size, &result);
                if (error == Interop.Processes.ERANGE && size < 1 << 20)
                {
                    size *= 4;
                    continue;
                }

                if (result == null)
                {
                    // systemd accepts a numeric user with no entry; it gets the same number as its group.
                    return numeric ? new UserAccount(user, uid, uid, "/", "/bin/sh", InDatabase: false) : null;
                }

                return new UserAccount(
                    Utf8(result->Name) ?? user,
                    result->Uid,
                    result->Gid,
                    Utf8(result->Dir) ?? "/",
                    Utf8(result->Shell) ?? "/bin/sh",
                    InDatabase: true);
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary>Looks up a group id by name or number; <see langword="null"/> when unknown.</summary>
    public static unsafe uint? FindGroup(string group)
    {
        var numeric = uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid);
        var size = 1024;
        while (true)
        {
            var buffer = NativeMemory.Alloc((nuint)size);
            try
            {
                Interop.Processes.Group entry;
                Interop.Processes.Group* result;
                var error = numeric
                    ? Interop.Processes.GetGrGidR(gid, &entry, (byte*)buffer, (nuint)size, &result)
                    : Interop.Processes.GetGrNamR(group, &entry, (byte*)buffer, (nuint)size, &result);
                if (error == Interop.Processes.ERANGE && size < 1 << 24)
                {
                    // Groups with many members need large buffers.
                    size *= 4;
                    continue;
                }

                return result != null ? result->Gid : numeric ? gid : null;
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    private static unsafe string? Utf8(byte* text) => text == null ? null : Marshal.PtrToStringUTF8((nint)text);
}

namespace GitProc.Locking;

/// <summary>
/// Another process holds the exclusive lock on something one daemon must own alone (its state file, its cgroup
/// root), so this one must not start. Nothing was touched.
/// </summary>
public sealed class LockHeldException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">What is owned: the state file, or the cgroup root directory.</param>
    /// <param name="lockPath">The file or directory whose lock is held.</param>
    /// <param name="holderPid">The process holding the lock, when it could be found.</param>
    /// <param name="message">What is held by whom, and what to do.</param>
    public LockHeldException(string path, string lockPath, int? holderPid, string message)
        : base(message)
    {
        Path = path;
        LockPath = lockPath;
        HolderPid = holderPid;
    }

    /// <summary>What is owned: the state file, or the cgroup root directory.</summary>
    public string Path { get; }

    /// <summary>The file or directory whose lock is held (<c>state.json.lock</c> beside the state file, or the cgroup root itself).</summary>
    public string LockPath { get; }

    /// <summary>The process holding the lock; <see langword="null"/> when it could not be found.</summary>
    public int? HolderPid { get; }

    /// <summary>"Another gitproc daemon (PID 1234)", or without the PID when it is unknown.</summary>
    internal static string Holder(int? pid) =>
        pid is { } known
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Another gitproc daemon (PID {known})")
            : "Another gitproc daemon";
}

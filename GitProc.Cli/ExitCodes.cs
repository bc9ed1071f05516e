namespace GitProc.Cli;

/// <summary>The exit codes scripts rely on.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>A runtime error: service not found, already running, daemon unreachable, Git error, ...</summary>
    public const int Error = 1;

    /// <summary>A command-line usage error: unknown command or option, missing argument.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by SIGINT before finishing (128 + 2, the shell convention).</summary>
    public const int Interrupted = 130;
}

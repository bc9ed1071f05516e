namespace GitProc.Readiness;

/// <summary>How waiting for a <c>Type=notify</c> service's <c>READY=1</c> ended.</summary>
internal enum ReadyOutcome
{
    /// <summary><c>READY=1</c> arrived.</summary>
    Ready,

    /// <summary>The main process exited first.</summary>
    Exited,

    /// <summary><c>TimeoutStartSec=</c> (with any <c>EXTEND_TIMEOUT_USEC=</c>) passed first.</summary>
    TimedOut,

    /// <summary>A stop was asked for while the service was starting.</summary>
    Aborted,
}

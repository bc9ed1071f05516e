namespace GitProc.Supervision;

/// <summary>Who asks a service to start, which decides what an earlier stop or failure means.</summary>
internal enum StartMode
{
    /// <summary>Applying the desired state: an operator's stop is respected, a running service is left alone.</summary>
    Apply,

    /// <summary>An operator's <c>start</c>: clears the operator's stop and the crash-loop limit; a running service is an error.</summary>
    Operator,

    /// <summary>A dependency of a service an operator starts: started if not running, its stop cleared.</summary>
    Dependency,
}

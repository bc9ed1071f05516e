namespace GitProc.State;

/// <summary>The states shown to users.</summary>
public enum ServiceStatus
{
    /// <summary>Not running, by choice or after a clean end.</summary>
    Stopped,

    /// <summary>Its process runs.</summary>
    Running,

    /// <summary>It could not start, its dependency failed, or it hit its crash-loop limit.</summary>
    Failed,
}

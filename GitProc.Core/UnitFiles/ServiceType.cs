namespace GitProc.UnitFiles;

/// <summary><c>[Service] Type=</c>.</summary>
public enum ServiceType
{
    /// <summary>The service is running as soon as its process has been started.</summary>
    Simple,

    /// <summary>The service is running once its executable has been executed successfully.</summary>
    Exec,

    /// <summary>The service runs its commands to completion; success leaves it stopped, not failed.</summary>
    Oneshot,
}

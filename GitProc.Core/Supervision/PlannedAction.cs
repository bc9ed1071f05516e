namespace GitProc.Supervision;

/// <summary>What applying a set of units does to one service.</summary>
public enum PlannedAction
{
    /// <summary>Left as it is (running or not).</summary>
    Unchanged,

    /// <summary>Started: a new unit, or one not running that the apply starts (a dependency pulled in, say).</summary>
    Start,

    /// <summary>Stopped with its old definition and started with the new one: its unit changed.</summary>
    Restart,

    /// <summary>Stopped and forgotten: its unit is gone.</summary>
    Stop,
}

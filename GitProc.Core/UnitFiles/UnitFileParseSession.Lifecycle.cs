namespace GitProc.UnitFiles;

/// <summary>The [Service] keys of a service's life after its start: OOMPolicy=, RemainAfterExit=, ExecStopPost=, ReloadSignal=.</summary>
internal sealed partial class UnitFileParseSession
{
    private readonly List<UnitCommand> _execStopPost = [];
    private OomPolicy _oomPolicy = OomPolicy.Stop;
    private bool _remainAfterExit;
    private int? _reloadSignal;
    private int _remainAfterExitLine;

    /// <summary>Assigns one of these keys; <see langword="false"/> for any other key.</summary>
    private bool AssignLifecycle(string key, string value, int line)
    {
        switch (key)
        {
            case "OOMPolicy":
                _oomPolicy = value.Length == 0 ? OomPolicy.Stop : ParseOomPolicy(key, value, line);
                return true;
            case "RemainAfterExit":
                _remainAfterExit = value.Length != 0 && ParseBoolean(key, value, line);
                _remainAfterExitLine = line;
                return true;
            case "ExecStopPost":
                AssignCommands(_execStopPost, key, value, line);
                return true;
            case "ReloadSignal":
                _reloadSignal = value.Length == 0 ? null : ParseSignal(key, value, line);
                return true;
            default:
                return false;
        }
    }

    private UnitFile WithLifecycle(UnitFile unit)
    {
        if (_remainAfterExit && _type != ServiceType.Oneshot)
        {
            // systemd accepts it for any type, but only a oneshot's processes exit while the service is meant to be up.
            Warn(_remainAfterExitLine, "RemainAfterExit", "RemainAfterExit=yes only has an effect on Type=oneshot services in GitProc; it is ignored here.");
        }

        return unit with
        {
            ExecStopPost = _execStopPost.AsReadOnly(),
            OomPolicy = _oomPolicy,
            RemainAfterExit = _remainAfterExit && _type == ServiceType.Oneshot,
            ReloadSignal = _reloadSignal,
            Warnings = _warnings.AsReadOnly(),
        };
    }

    private OomPolicy ParseOomPolicy(string key, string value, int line) => value switch
    {
        "stop" => OomPolicy.Stop,
        "continue" => OomPolicy.Continue,
        "kill" => OomPolicy.Kill,
        _ => throw Error(line, key, value, "The value is not an OOM policy; use stop, continue or kill."),
    };

    private bool ParseBoolean(string key, string value, int line) =>
        SystemdValues.TryParseBoolean(value, out var result)
            ? result
            : throw Error(line, key, value, "The value is not a boolean; write yes or no (also accepted: true/false, on/off, 1/0).");
}

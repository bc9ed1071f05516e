using System.Collections.Frozen;
using System.Text;

namespace GitProc.UnitFiles;

/// <summary>
/// One parse of one unit file: reads systemd.syntax(7) lines, applies each assignment in file order (so the last
/// one wins, lists accumulate and empty assignments reset), then checks the whole and builds the
/// <see cref="UnitFile"/>. An error in one line does not stop the reading: every error is collected, and
/// <see cref="Build"/> throws one <see cref="UnitFileParseException"/> with all of them.
/// </summary>
internal sealed partial class UnitFileParseSession
{
    private const string UnitSection = SystemdKeys.UnitSection;
    private const string ServiceSection = SystemdKeys.ServiceSection;

    // The keys GitProc acts on, per section.
    private static readonly HashSet<string> UnitKeys = new(StringComparer.Ordinal)
    {
        "Description", "After", "Requires", "Wants", "StartLimitBurst", "StartLimitIntervalSec", "StartLimitInterval",
        ConditionHostKey,
    };

    private static readonly HashSet<string> ServiceKeys = new(StringComparer.Ordinal)
    {
        "Type", "ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload", "Restart", "RestartSec",
        "RestartSteps", "RestartMaxDelaySec", "TimeoutStopSec", "TimeoutSec", "KillSignal", "KillMode", "User", "Group",
        "WorkingDirectory", "Environment", "EnvironmentFile", "MemoryMax", "MemoryLimit", "CPUQuota", "TasksMax",
        "LimitNOFILE", "HealthCheckURL", "HealthCheckInterval", "HealthCheckTimeout", "HealthCheckRetries",
        "LogRateLimitIntervalSec", "LogRateLimitBurst", "TimeoutStartSec", "NotifyAccess", "WatchdogSec",
        "OOMPolicy", "RemainAfterExit", "ExecStopPost", "ReloadSignal",
        "PIDFile", "GuessMainPID",
    };

    private readonly string _fileName;
    private readonly string _name;
    private readonly bool _strict;
    private readonly List<UnitFileError> _errors = [];

    // Keys and sections whose lines were errors, so that what follows from them is not reported a second time
    // (an ExecStart= that does not parse is not also "missing").
    private readonly HashSet<string> _failedKeys = new(StringComparer.Ordinal);
    private bool _sectionFailed;
    private readonly Dictionary<string, Dictionary<string, List<string>>> _sections = new(StringComparer.Ordinal);
    private readonly List<UnitFileWarning> _warnings = [];
    private readonly List<string> _messages = [];
    private readonly StringBuilder _scratch = new();

    private readonly List<string> _after = [];
    private readonly List<string> _requires = [];
    private readonly List<string> _wants = [];
    private readonly Dictionary<(string Key, string Name), int> _dependencyLines = [];
    private readonly List<(UnitCommand Command, int Line)> _execStart = [];
    private readonly List<UnitCommand> _execStartPre = [];
    private readonly List<UnitCommand> _execStartPost = [];
    private readonly List<UnitCommand> _execStop = [];
    private readonly List<UnitCommand> _execReload = [];
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly List<EnvironmentFileReference> _environmentFiles = [];

    private string? _section;
    private int _serviceSectionLine;
    private int _assignments;

    private string? _description;
    private int _startLimitBurst = 5;
    private TimeSpan _startLimitInterval = TimeSpan.FromSeconds(10);
    private ServiceType _type = ServiceType.Simple;
    private RestartPolicy _restart = RestartPolicy.No;
    private TimeSpan _restartSec = TimeSpan.FromMilliseconds(100);
    private int _restartSteps;
    private TimeSpan? _restartMaxDelay;
    private TimeSpan _timeoutStop = TimeSpan.FromSeconds(10);
    private TimeSpan _timeoutStart = TimeSpan.FromSeconds(90);
    private NotifyAccess? _notifyAccess;
    private TimeSpan? _watchdog;
    private (string Path, int Line)? _pidFile;
    private bool _guessMainPid = true;
    private int _killSignal = 15;
    private KillMode _killMode = KillMode.ControlGroup;
    private string? _user;
    private string? _group;
    private string? _workingDirectory;
    private bool _workingDirectoryOptional;
    private (bool Set, long? Bytes) _memoryMax;
    private (bool Set, long? Bytes) _memoryLimitAlias;
    private int? _cpuQuota;
    private long? _tasksMax;
    private ProcessLimit? _limitNoFile;
    private Uri? _healthCheckUrl;
    private TimeSpan _healthCheckInterval = TimeSpan.FromSeconds(30);
    private TimeSpan _healthCheckTimeout = TimeSpan.FromSeconds(5);
    private int _healthCheckRetries = 3;
    private TimeSpan _logRateLimitInterval;
    private int _logRateLimitBurst;

    internal UnitFileParseSession(string fileName, string name, UnitFileOptions options)
    {
        _fileName = fileName;
        _name = name;
        _strict = options.UnknownKeys != UnknownKeyHandling.Warn;
    }

    /// <summary>Records an error found outside the file's lines (its name, say); the parse goes on.</summary>
    internal void AddError(int line, string? key, string? value, string reason) =>
        _errors.Add(new UnitFileError(_fileName, line, key, value, reason));

    /// <summary>Reads every line of <paramref name="content"/> from <paramref name="start"/> (past a byte order mark).</summary>
    internal void Read(string content, int start)
    {
        var position = start;
        var lineNumber = 0;
        StringBuilder? continuation = null;
        var continuationLine = 0;
        while (position < content.Length)
        {
            // systemd's read_line(): "\n", "\r\n" and a lone "\r" each end a line.
            var rest = content.AsSpan(position);
            var length = rest.IndexOfAny('\n', '\r');
            if (length < 0)
            {
                length = rest.Length;
            }

            var line = rest[..length];
            position += length;
            if (position < content.Length)
            {
                position += content[position] == '\r' && position + 1 < content.Length && content[position + 1] == '\n' ? 2 : 1;
            }

            lineNumber++;
            if (!CheckCharacters(line, lineNumber))
            {
                continue;
            }

            // Comments are recognised on the raw line, before continuation: a comment inside a continued value is skipped.
            var leading = line.TrimStart(SystemdText.Whitespace);
            if (leading.Length > 0 && leading[0] is '#' or ';')
            {
                continue;
            }

            ReadOnlySpan<char> text;
            if (continuation is not null)
            {
                continuation.Append(line);
                text = default;
            }
            else
            {
                text = line;
            }

            var trailingBackslashes = 0;
            if (continuation is not null)
            {
                for (var i = continuation.Length - 1; i >= 0 && continuation[i] == '\\'; i--)
                {
                    trailingBackslashes++;
                }
            }
            else
            {
                for (var i = text.Length - 1; i >= 0 && text[i] == '\\'; i--)
                {
                    trailingBackslashes++;
                }
            }

            if (trailingBackslashes % 2 == 1)
            {
                // systemd replaces the continuing backslash with a space and joins the next line.
                if (continuation is null)
                {
                    continuation = new StringBuilder(text.Length + 64);
                    continuation.Append(text);
                    continuationLine = lineNumber;
                }

                continuation[^1] = ' ';
                continue;
            }

            if (continuation is not null)
            {
                ParseLine(continuation.ToString(), continuationLine);
                continuation = null;
            }
            else
            {
                ParseLine(text, lineNumber);
            }
        }

        // A file that ends inside a continuation still has its last value, as in systemd.
        if (continuation is not null)
        {
            ParseLine(continuation.ToString(), continuationLine);
        }
    }

    /// <summary>Checks the whole unit and builds the record.</summary>
    internal UnitFile Build()
    {
        // A missing ExecStart= that only follows from an error already reported (an ExecStart= that did not parse or
        // sits in the wrong section, a misspelt [Service] header) would only repeat it.
        if (_execStart.Count == 0 && !_failedKeys.Contains("ExecStart") && !_sectionFailed)
        {
            var reason = _assignments == 0
                ? "The file has no settings at all (an empty file, or one masked by a link to /dev/null); a service needs [Service] with ExecStart=/path/to/program."
                : _serviceSectionLine == 0
                    ? "The unit has no [Service] section with ExecStart=; add [Service] and ExecStart=/path/to/program (the command GitProc runs)."
                    : "The unit has no ExecStart=; add ExecStart=/path/to/program under [Service] (the command GitProc runs).";
            AddError(_serviceSectionLine, "ExecStart", null, reason);
        }

        if (_execStart.Count > 1 && _type != ServiceType.Oneshot && !_failedKeys.Contains("Type"))
        {
            var (command, line) = _execStart[1];
            AddError(
                line,
                "ExecStart",
                command.CommandLine,
                $"This is a second ExecStart= command, which only Type=oneshot services may have (this one is Type={TypeName(_type)}); keep one ExecStart=, move the others to ExecStartPre=/ExecStartPost=, or set Type=oneshot.");
        }

        if (_pidFile is { } pidFile && _type != ServiceType.Forking && !_failedKeys.Contains("Type"))
        {
            Warn(pidFile.Line, "PIDFile", $"PIDFile= is only read for Type=forking (this one is Type={TypeName(_type)}); it is ignored.");
        }

        if (_errors.Count > 0)
        {
            throw new UnitFileParseException(_errors.AsReadOnly()) { Warnings = _warnings.AsReadOnly() };
        }

        var sections = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>(_sections.Count, StringComparer.Ordinal);
        foreach (var (section, keys) in _sections)
        {
            var copy = new Dictionary<string, IReadOnlyList<string>>(keys.Count, StringComparer.Ordinal);
            foreach (var (key, values) in keys)
            {
                copy[key] = values.AsReadOnly();
            }

            sections[section] = copy.AsReadOnly();
        }

        return WithLifecycle(new UnitFile
        {
            Name = _name,
            FileName = _fileName,
            Description = _description,
            After = _after.AsReadOnly(),
            Requires = _requires.AsReadOnly(),
            Wants = _wants.AsReadOnly(),
            StartLimitBurst = _startLimitBurst,
            StartLimitInterval = _startLimitInterval,
            ConditionHost = HostConditions(),
            Type = _type,
            ExecStartCommands = _execStart.Select(static c => c.Command).ToList().AsReadOnly(),
            ExecStartPre = _execStartPre.AsReadOnly(),
            ExecStartPost = _execStartPost.AsReadOnly(),
            ExecStop = _execStop.AsReadOnly(),
            ExecReload = _execReload.AsReadOnly(),
            Restart = _restart,
            RestartSec = _restartSec,
            RestartSteps = _restartSteps,
            RestartMaxDelay = _restartMaxDelay,
            TimeoutStop = _timeoutStop,
            TimeoutStart = _timeoutStart,
            NotifyAccess = _notifyAccess,
            Watchdog = _watchdog,
            PidFile = _pidFile?.Path,
            GuessMainPid = _guessMainPid,
            KillSignal = _killSignal,
            KillMode = _killMode,
            User = _user,
            Group = _group,
            WorkingDirectory = _workingDirectory,
            WorkingDirectoryOptional = _workingDirectoryOptional,
            Environment = _environment.AsReadOnly(),
            EnvironmentFiles = _environmentFiles.AsReadOnly(),
            MemoryLimit = _memoryMax.Set ? _memoryMax.Bytes : _memoryLimitAlias.Bytes,
            CpuQuota = _cpuQuota,
            TasksMax = _tasksMax,
            LimitNOFILE = _limitNoFile,
            HealthCheckUrl = _healthCheckUrl,
            HealthCheckInterval = _healthCheckInterval,
            HealthCheckTimeout = _healthCheckTimeout,
            HealthCheckRetries = _healthCheckRetries,
            LogRateLimitInterval = _logRateLimitInterval,
            LogRateLimitBurst = _logRateLimitBurst,
            Sections = sections.AsReadOnly(),
            Warnings = _warnings.AsReadOnly(),
            DependencyLines = _dependencyLines,
        });
    }

    private static string TypeName(ServiceType type) => type switch
    {
        ServiceType.Exec => "exec",
        ServiceType.Oneshot => "oneshot",
        ServiceType.Notify => "notify",
        ServiceType.Forking => "forking",
        _ => "simple",
    };

    /// <summary>Records an error and returns <see langword="false"/> for a line that is not text; the line is skipped.</summary>
    private bool CheckCharacters(ReadOnlySpan<char> line, int lineNumber)
    {
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\0')
            {
                AddError(lineNumber, null, line.ToString(), $"The line contains a NUL character (at column {i + 1}); a unit file is text, so remove it.");
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < line.Length && char.IsLowSurrogate(line[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                AddError(
                    lineNumber,
                    null,
                    line.ToString(),
                    $"The line is not valid Unicode text: it has an unpaired surrogate U+{(int)c:X4} at column {i + 1}; save the file as UTF-8.");
                return false;
            }
        }

        return true;
    }

    private void ParseLine(ReadOnlySpan<char> raw, int line)
    {
        var text = SystemdText.Trim(raw);
        if (text.Length == 0)
        {
            return;
        }

        if (text[0] == '[')
        {
            // The lines that follow a broken header belong to no section GitProc can name, so they are skipped
            // (systemd ignores them too); the header itself is the error.
            if (text[^1] != ']')
            {
                SectionError(line, text.ToString(), "This is not a valid section header: it starts with '[' but does not end with ']'; write [Unit] or [Service].");
                return;
            }

            var name = text[1..^1].ToString();
            if (!SystemdText.IsSafe(name))
            {
                SectionError(line, text.ToString(), "The section name contains a control character, quote or backslash; write [Unit] or [Service].");
                return;
            }

            EnterSection(name, line);
            return;
        }

        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            AddError(
                line,
                null,
                text.ToString(),
                "The line is neither a [Section] header, a Key=value assignment nor a comment (comments start with '#' or ';'); add the missing '=' or comment it out.");
            return;
        }

        var key = SystemdText.Trim(text[..equals]).ToString();
        var value = SystemdText.Trim(text[(equals + 1)..]).ToString();
        if (key.Length == 0)
        {
            AddError(line, null, text.ToString(), "The assignment has no key before '='; write Key=value.");
            return;
        }

        if (_section is null)
        {
            AddError(line, key, value, "The assignment comes before any section header; put it under [Unit] or [Service].");

            // An ExecStart= above the first header is this error, not also a missing ExecStart=.
            _failedKeys.Add(key);
            return;
        }

        if (_section.Length == 0)
        {
            // Under a header that was an error.
            return;
        }

        _assignments++;
        if (!_sections.TryGetValue(_section, out var keys))
        {
            keys = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            _sections[_section] = keys;
        }

        if (!keys.TryGetValue(key, out var values))
        {
            values = [];
            keys[key] = values;
        }

        values.Add(value);

        try
        {
            switch (_section)
            {
                case UnitSection:
                    AssignUnit(key, value, line);
                    break;
                case ServiceSection:
                    AssignService(key, value, line);
                    break;
                case SystemdKeys.InstallSection:
                    CheckUnusedKey(SystemdKeys.InstallSection, key, line);
                    break;
                default:
                    // Other sections were reported once, at their header.
                    break;
            }
        }
        catch (UnitFileParseException ex)
        {
            // The value is refused; the key keeps its earlier value (or default) and the reading goes on.
            _errors.AddRange(ex.Errors);
            _failedKeys.Add(key);
        }
    }

    /// <summary>A header that is an error: reported, and the lines under it skipped until the next header.</summary>
    private void SectionError(int line, string? header, string reason)
    {
        AddError(line, null, header, reason);
        _section = string.Empty;
        _sectionFailed = true;
    }

    private void EnterSection(string name, int line)
    {
        _section = name;
        if (!_sections.ContainsKey(name))
        {
            _sections[name] = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        }

        switch (name)
        {
            case UnitSection:
                break;
            case ServiceSection:
                if (_serviceSectionLine == 0)
                {
                    _serviceSectionLine = line;
                }

                break;
            case "Install":
                Warn(line, null, "[Install] is not used by GitProc (every unit in the repository is started); its keys are kept but ignored.");
                break;
            default:
                if (name.StartsWith("X-", StringComparison.Ordinal))
                {
                    // CONTRACT §2: extensions are kept for callers and reported, never fatal; once for the whole section.
                    Warn(line, null, $"[{SystemdText.ForMessage(name)}] is an extension section: its keys are kept (available to callers) but GitProc does not act on them.");
                    break;
                }

                if (SystemdKeys.OtherUnitTypeSections.Contains(name))
                {
                    Warn(line, null, $"[{name}] is not a section GitProc uses; its keys are kept but ignored.");
                    break;
                }

                // Not a section systemd knows: most likely a misspelt [Service] or [Unit], whose keys would all be ignored.
                var suggestion = SystemdKeys.SuggestSection(name);
                var hint = suggestion is null
                    ? " Write [Unit], [Service] or [Install], or name a section of your own [X-...]."
                    : $" Did you mean [{suggestion}]?{(string.Equals(suggestion, name.Trim(), StringComparison.OrdinalIgnoreCase) ? " Section names are case-sensitive and take no spaces." : string.Empty)}";
                if (_strict)
                {
                    AddError(line, null, null, $"[{SystemdText.ForMessage(name)}] is not a section systemd or GitProc knows, so its keys would be ignored.{hint}");
                    _sectionFailed = true;
                }
                else
                {
                    Warn(line, null, $"[{SystemdText.ForMessage(name)}] is not a section systemd or GitProc knows; its keys are kept but ignored.{hint}");
                }

                break;
        }
    }

    private void AssignUnit(string key, string value, int line)
    {
        switch (key)
        {
            case "Description":
                _description = value.Length == 0 ? null : value;
                break;
            case "After":
                AddDependencies(_after, key, value, line);
                break;
            case "Requires":
                AddDependencies(_requires, key, value, line);
                break;
            case "Wants":
                AddDependencies(_wants, key, value, line);
                break;
            case "StartLimitBurst":
                _startLimitBurst = value.Length == 0 ? 5 : ParseCount(key, value, line, 0);
                break;
            case "StartLimitIntervalSec":
            case "StartLimitInterval":
                _startLimitInterval = value.Length == 0 ? TimeSpan.FromSeconds(10) : ParseFiniteTime(key, value, line, "use 0 to disable the start limit");
                break;
            default:
                if (!AssignCondition(key, value, line))
                {
                    CheckUnusedKey(UnitSection, key, line);
                }

                break;
        }
    }

    private void AssignService(string key, string value, int line)
    {
        switch (key)
        {
            case "Type":
                _type = value.Length == 0 ? ServiceType.Simple : ParseType(key, value, line);
                break;
            case "ExecStart":
                if (value.Length == 0)
                {
                    _execStart.Clear();
                }
                else
                {
                    foreach (var command in ParseCommands(key, value, line))
                    {
                        _execStart.Add((command, line));
                    }
                }

                break;
            case "ExecStartPre":
                AssignCommands(_execStartPre, key, value, line);
                break;
            case "ExecStartPost":
                AssignCommands(_execStartPost, key, value, line);
                break;
            case "ExecStop":
                AssignCommands(_execStop, key, value, line);
                break;
            case "ExecReload":
                AssignCommands(_execReload, key, value, line);
                break;
            case "Restart":
                _restart = value.Length == 0 ? RestartPolicy.No : ParseRestart(key, value, line);
                break;
            case "RestartSec":
                _restartSec = value.Length == 0 ? TimeSpan.FromMilliseconds(100) : ParseFiniteTime(key, value, line, "use Restart=no to never restart");
                break;
            case "RestartSteps":
                _restartSteps = value.Length == 0 ? 0 : ParseCount(key, value, line, 0);
                break;
            case "RestartMaxDelaySec":
                _restartMaxDelay = value.Length == 0 ? null : ParseMaxDelay(key, value, line);
                break;
            case "TimeoutStopSec":
                _timeoutStop = value.Length == 0 ? TimeSpan.FromSeconds(10) : ParseStopTimeout(key, value, line);
                break;
            case "TimeoutStartSec":
                _timeoutStart = value.Length == 0 ? TimeSpan.FromSeconds(90) : ParseStopTimeout(key, value, line);
                break;
            case "TimeoutSec":
                // systemd: both the start and the stop timeout.
                _timeoutStop = value.Length == 0 ? TimeSpan.FromSeconds(10) : ParseStopTimeout(key, value, line);
                _timeoutStart = value.Length == 0 ? TimeSpan.FromSeconds(90) : _timeoutStop;
                break;
            case "NotifyAccess":
                _notifyAccess = value.Length == 0 ? null : ParseNotifyAccess(key, value, line);
                break;
            case "WatchdogSec":
                _watchdog = value.Length == 0 ? null : ParseWatchdog(key, value, line);
                break;
            case "PIDFile":
                _pidFile = value.Length == 0 ? null : (ParsePidFile(key, value, line), line);
                break;
            case "GuessMainPID":
                _guessMainPid = value.Length == 0 || ParseBoolean(key, value, line);
                break;
            case "KillSignal":
                _killSignal = value.Length == 0 ? 15 : ParseSignal(key, value, line);
                break;
            case "KillMode":
                _killMode = value.Length == 0 ? KillMode.ControlGroup : ParseKillMode(key, value, line);
                break;
            case "User":
                _user = value.Length == 0 ? null : ParseAccount(key, value, line, "user");
                break;
            case "Group":
                _group = value.Length == 0 ? null : ParseAccount(key, value, line, "group");
                break;
            case "WorkingDirectory":
                AssignWorkingDirectory(key, value, line);
                break;
            case "Environment":
                AssignEnvironment(key, value, line);
                break;
            case "EnvironmentFile":
                AssignEnvironmentFile(key, value, line);
                break;
            case "MemoryMax":
                _memoryMax = value.Length == 0 ? default : (true, ParseMemory(key, value, line));
                break;
            case "MemoryLimit":
                _memoryLimitAlias = value.Length == 0 ? default : (true, ParseMemory(key, value, line));
                break;
            case "CPUQuota":
                _cpuQuota = value.Length == 0 ? null : ParseCpuQuota(key, value, line);
                break;
            case "TasksMax":
                _tasksMax = value.Length == 0 ? null : ParseTasksMax(key, value, line);
                break;
            case "LimitNOFILE":
                _limitNoFile = value.Length == 0 ? null : ParseOpenFileLimit(key, value, line);
                break;
            case "HealthCheckURL":
                _healthCheckUrl = value.Length == 0 ? null : ParseHealthCheckUrl(key, value, line);
                break;
            case "HealthCheckInterval":
                _healthCheckInterval = value.Length == 0 ? TimeSpan.FromSeconds(30) : ParsePositiveTime(key, value, line);
                break;
            case "HealthCheckTimeout":
                _healthCheckTimeout = value.Length == 0 ? TimeSpan.FromSeconds(5) : ParsePositiveTime(key, value, line);
                break;
            case "HealthCheckRetries":
                _healthCheckRetries = value.Length == 0 ? 3 : ParseCount(key, value, line, 1);
                break;
            case "LogRateLimitIntervalSec":
                _logRateLimitInterval = value.Length == 0 ? TimeSpan.Zero : ParseFiniteTime(key, value, line, "use 0 for no log rate limit");
                break;
            case "LogRateLimitBurst":
                _logRateLimitBurst = value.Length == 0 ? 0 : ParseCount(key, value, line, 0);
                break;
            case "StartLimitBurst":
            case "StartLimitIntervalSec":
            case "StartLimitInterval":
                Warn(line, key, $"{key}= belongs in [Unit] (systemd moved it there in version 230); accepted in [Service] as older systemd did.");
                AssignUnit(key, value, line);
                break;
            default:
                if (!AssignLifecycle(key, value, line))
                {
                    CheckUnusedKey(ServiceSection, key, line);
                }

                break;
        }
    }

    /// <summary>
    /// A key GitProc does not act on in this section: a systemd key is kept with a warning; a key GitProc
    /// acts on in another section, or a key neither systemd nor GitProc knows, is an error (it would silently change
    /// what runs) that suggests the key meant, or a warning when <see cref="UnknownKeyHandling.Warn"/>.
    /// </summary>
    private void CheckUnusedKey(string section, string key, int line)
    {
        if (key.StartsWith("X-", StringComparison.Ordinal))
        {
            if (section != SystemdKeys.InstallSection)
            {
                Warn(line, key, $"{SystemdText.ForMessage(key)}= is an extension key: it is kept (available to callers) but GitProc does not act on it.");
            }

            return;
        }

        if (SystemdKeys.IsKnown(section, key))
        {
            if (section != SystemdKeys.InstallSection)
            {
                // [Install] as a whole was reported at its header.
                Warn(line, key, $"{key}= in [{section}] is a systemd setting GitProc does not act on; it is kept but ignored.");
            }

            return;
        }

        var shown = SystemdText.ForMessage(key);
        if (SystemdKeys.OtherSectionOf(section, key) is { } home)
        {
            // Description= is only shown, so it is the one key GitProc reads whose misplacement changes nothing that runs.
            var actedOn = key != "Description" && (home == UnitSection ? UnitKeys : home == ServiceSection ? ServiceKeys : null)?.Contains(key) == true;
            if (actedOn)
            {
                // Restart=always under [Unit] leaves the default restart policy: as silent as a typo.
                Problem(line, key, $"{shown}= belongs in [{home}], not [{section}], so GitProc does not act on it here. Move it to [{home}].");
            }
            else
            {
                Warn(line, key, $"{shown}= belongs in [{home}], not [{section}]; it is ignored here. Move it to [{home}].");
            }

            return;
        }

        IReadOnlySet<string> preferred = section switch
        {
            UnitSection => UnitKeys,
            ServiceSection => ServiceKeys,
            _ => FrozenSet<string>.Empty,
        };
        var hint = SystemdKeys.Suggest(section, key, preferred) switch
        {
            { } suggestion when suggestion.Section != section => $"; did you mean {suggestion.Key}= (in [{suggestion.Section}])?",
            { } suggestion when string.Equals(suggestion.Key, key, StringComparison.OrdinalIgnoreCase) => $"; did you mean {suggestion.Key}=? Keys are case-sensitive.",
            { } suggestion => $"; did you mean {suggestion.Key}=?",
            null => $". Check its spelling, or name a setting of your own X-{shown}=.",
        };
        Problem(line, key, $"{shown}= is not a systemd or GitProc key in [{section}]{hint}");
    }

    /// <summary>An error, or with <see cref="UnknownKeyHandling.Warn"/> a warning that the key is kept but ignored.</summary>
    private void Problem(int line, string key, string message)
    {
        if (_strict)
        {
            AddError(line, key, null, message);
            _failedKeys.Add(key);
        }
        else
        {
            Warn(line, key, message.EndsWith('.') || message.EndsWith('?') ? $"{message} It is kept but ignored." : $"{message}; it is kept but ignored.");
        }
    }

    private void Warn(int line, string? key, string message) => _warnings.Add(new UnitFileWarning(_fileName, line, key, message));

    private UnitFileParseException Error(int line, string key, string value, string reason) => new(_fileName, line, key, value, reason);

    private ServiceType ParseType(string key, string value, int line)
    {
        switch (value)
        {
            case "simple":
                return ServiceType.Simple;
            case "exec":
                return ServiceType.Exec;
            case "oneshot":
                return ServiceType.Oneshot;
            case "notify":
                return ServiceType.Notify;
            case "notify-reload":
                Warn(line, key, "Type=notify-reload runs as notify: readiness is awaited, but a reload is not sent as a signal (use ExecReload=).");
                return ServiceType.Notify;
            case "dbus":
            case "idle":
                Warn(line, key, $"Type={value} runs as simple: the service counts as running as soon as its process starts.");
                return ServiceType.Simple;
            case "forking":
                return ServiceType.Forking;
        }

        throw Error(line, key, value, "The value is not a service type GitProc supports; use simple, exec, oneshot, notify or forking.");
    }

    private string ParsePidFile(string key, string value, int line)
    {
        if (value.EndsWith('/'))
        {
            throw Error(line, key, value, "The value is not a file path; write the path of the file the daemon writes its PID to, such as /run/NAME.pid.");
        }

        if (!value.StartsWith('/') && !value.StartsWith('%'))
        {
            Warn(line, key, $"PIDFile={value} is a relative path: it is read as /run/{value}, as systemd does. Prefer an absolute path.");
        }

        return value;
    }

    private NotifyAccess ParseNotifyAccess(string key, string value, int line) => value switch
    {
        "none" => NotifyAccess.None,
        "main" => NotifyAccess.Main,
        "exec" => NotifyAccess.Exec,
        "all" => NotifyAccess.All,
        _ => throw Error(line, key, value, "The value is not a notification access; use none, main, exec or all."),
    };

    private TimeSpan? ParseWatchdog(string key, string value, int line)
    {
        // systemd: 0 (and infinity) turn the watchdog off.
        var span = ParseTime(key, value, line, out var infinite);
        return infinite || span == TimeSpan.Zero ? null : span;
    }

    private KillMode ParseKillMode(string key, string value, int line)
    {
        switch (value)
        {
            case "control-group":
                return KillMode.ControlGroup;
            case "mixed":
                return KillMode.Mixed;
            case "process":
                return KillMode.Process;
            case "none":
                Warn(line, key, "KillMode=none is treated as process: only the main process is signalled (systemd deprecates none).");
                return KillMode.Process;
        }

        throw Error(line, key, value, "The value is not a kill mode; use control-group, mixed or process.");
    }

    private RestartPolicy ParseRestart(string key, string value, int line)
    {
        switch (value)
        {
            case "no":
                return RestartPolicy.No;
            case "always":
                return RestartPolicy.Always;
            case "on-success":
                return RestartPolicy.OnSuccess;
            case "on-failure":
                return RestartPolicy.OnFailure;
            case "on-abnormal":
                return RestartPolicy.OnAbnormal;
            case "on-abort":
                return RestartPolicy.OnAbort;
            case "on-watchdog":
                return RestartPolicy.OnWatchdog;
        }

        throw Error(line, key, value, "The value is not a restart policy; use no, always, on-success, on-failure, on-abnormal, on-abort or on-watchdog.");
    }

    private void AssignCommands(List<UnitCommand> commands, string key, string value, int line)
    {
        if (value.Length == 0)
        {
            commands.Clear();
            return;
        }

        commands.AddRange(ParseCommands(key, value, line));
    }

    private List<UnitCommand> ParseCommands(string key, string value, int line)
    {
        var commands = new List<UnitCommand>(1);
        _messages.Clear();
        if (!CommandLineSplitter.TryParse(value, commands, _messages, out var error))
        {
            throw Error(line, key, value, $"The command line {error}.");
        }

        foreach (var message in _messages)
        {
            Warn(line, key, message);
        }

        return commands;
    }

    private void AddDependencies(List<string> list, string key, string value, int line)
    {
        // An empty assignment is ignored (CONTRACT: dependencies accumulate); quotes group as systemd's
        // EXTRACT_UNQUOTE does, and backslashes are kept (EXTRACT_RETAIN_ESCAPE) for escaped unit names.
        var position = 0;
        while (position < value.Length)
        {
            while (position < value.Length && SystemdText.IsWhitespace(value[position]))
            {
                position++;
            }

            if (position == value.Length)
            {
                break;
            }

            _scratch.Clear();
            var quote = '\0';
            for (; position < value.Length; position++)
            {
                var c = value[position];
                if (quote != '\0')
                {
                    if (c == quote)
                    {
                        quote = '\0';
                    }
                    else
                    {
                        _scratch.Append(c);
                    }
                }
                else if (c is '"' or '\'')
                {
                    quote = c;
                }
                else if (SystemdText.IsWhitespace(c))
                {
                    break;
                }
                else
                {
                    _scratch.Append(c);
                }
            }

            if (quote != '\0')
            {
                throw Error(line, key, value, $"The value has an unbalanced {(quote == '"' ? "double" : "single")} quote; close it or remove it.");
            }

            var word = _scratch.ToString();
            var name = word.EndsWith(".service", StringComparison.Ordinal) ? word[..^".service".Length] : word;
            if (name.Length == 0 || name[0] == '.' || !IsUnitNameText(name))
            {
                throw Error(
                    line,
                    key,
                    value,
                    $"'{SystemdText.ForMessage(word)}' is not a valid unit name: names are space-separated and use only letters, digits and ':', '_', '.', '@', '-' (and systemd's '%' specifiers and '\\' escapes), without '/' or a leading '.'.");
            }

            if (!list.Contains(name, StringComparer.Ordinal))
            {
                list.Add(name);
                _dependencyLines.TryAdd((key, name), line);
            }
        }
    }

    private static bool IsUnitNameText(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.' or '@' or '-' or '%' or '\\'))
            {
                return false;
            }
        }

        return true;
    }

    private int ParseCount(string key, string value, int line, int minimum)
    {
        if (!SystemdValues.TryParseNonNegative(value, int.MaxValue, out var count))
        {
            throw Error(line, key, value, minimum == 0 ? "The value is not a number; write a whole number, 0 or more." : $"The value is not a number; write a whole number, {minimum} or more.");
        }

        if (count < minimum)
        {
            throw Error(line, key, value, $"The value is too small; write a whole number, {minimum} or more.");
        }

        return (int)count;
    }

    private TimeSpan ParseTime(string key, string value, int line, out bool infinite)
    {
        if (!SystemdTimeSpan.TryParse(value, out var span, out infinite, out var error))
        {
            throw Error(line, key, value, $"The value {error}.");
        }

        return span;
    }

    private TimeSpan ParseFiniteTime(string key, string value, int line, string infinityHint)
    {
        var span = ParseTime(key, value, line, out var infinite);
        if (infinite)
        {
            throw Error(line, key, value, $"GitProc does not accept infinity here; {infinityHint}, or give a finite time span such as 10s.");
        }

        return span;
    }

    private TimeSpan ParsePositiveTime(string key, string value, int line)
    {
        var span = ParseFiniteTime(key, value, line, "write a finite time span");
        if (span <= TimeSpan.Zero)
        {
            throw Error(line, key, value, "The value must be longer than zero; write a time span such as 5s or 30s.");
        }

        return span;
    }

    private TimeSpan? ParseMaxDelay(string key, string value, int line)
    {
        var span = ParseTime(key, value, line, out var infinite);
        return infinite ? null : span;
    }

    private TimeSpan ParseStopTimeout(string key, string value, int line)
    {
        // systemd's parse_sec_fix_0(): 0 disables the timeout, like infinity.
        var span = ParseTime(key, value, line, out var infinite);
        return infinite || span == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : span;
    }

    private int ParseSignal(string key, string value, int line)
    {
        if (!SystemdValues.TryParseSignal(value, out var signal))
        {
            throw Error(line, key, value, "The value is not a signal; write a name such as SIGTERM, SIGINT or SIGHUP (the SIG prefix is optional) or a number from 1 to 64.");
        }

        return signal.Value;
    }

    private string ParseAccount(string key, string value, int line, string what)
    {
        var bad = value is "." or ".." || value[0] == '-';
        foreach (var c in value)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c is ':' or '/' or ',')
            {
                bad = true;
                break;
            }
        }

        if (bad)
        {
            throw Error(line, key, value, $"The value is not a valid {what} name; write one {what} name or numeric id, without spaces, ':', ',' or '/'.");
        }

        return value;
    }

    private void AssignWorkingDirectory(string key, string value, int line)
    {
        if (value.Length == 0)
        {
            _workingDirectory = null;
            _workingDirectoryOptional = false;
            return;
        }

        var optional = value[0] == '-';
        var path = optional ? SystemdText.Trim(value.AsSpan(1)).ToString() : value;
        if (path.Length == 0)
        {
            throw Error(line, key, value, "The value has nothing after '-'; write -/path/to/directory (the '-' makes a missing directory not an error).");
        }

        if (SystemdText.HasControlCharacter(path))
        {
            throw Error(line, key, value, "The value contains a control character; write a directory path.");
        }

        _workingDirectory = path;
        _workingDirectoryOptional = optional;
    }

    private void AssignEnvironment(string key, string value, int line)
    {
        if (value.Length == 0)
        {
            _environment.Clear();
            return;
        }

        var words = SystemdWords.Split(value, out var error, out var keptUnknownEscape);
        if (words is null)
        {
            throw Error(line, key, value, $"The value {error}.");
        }

        if (keptUnknownEscape)
        {
            Warn(line, key, "Unknown escape sequences are kept as written (a backslash and the character after it), as systemd does; write \\\\ for a literal backslash.");
        }

        foreach (var word in words)
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !IsEnvironmentName(word.AsSpan(0, equals)))
            {
                Warn(line, key, $"'{SystemdText.ForMessage(word)}' is not a NAME=VALUE assignment with a valid variable name (letters, digits and '_', not starting with a digit); it is ignored, as systemd does.");
                continue;
            }

            var assigned = word[(equals + 1)..];
            if (HasDisallowedControl(assigned))
            {
                Warn(line, key, $"The value of {word[..equals]} contains control characters other than tab and newline; the assignment is ignored, as systemd does.");
                continue;
            }

            _environment[word[..equals]] = assigned;
        }
    }

    private static bool IsEnvironmentName(ReadOnlySpan<char> name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasDisallowedControl(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && c is not '\t' and not '\n')
            {
                return true;
            }
        }

        return false;
    }

    private void AssignEnvironmentFile(string key, string value, int line)
    {
        if (value.Length == 0)
        {
            _environmentFiles.Clear();
            return;
        }

        var optional = value[0] == '-';
        var path = optional ? SystemdText.Trim(value.AsSpan(1)).ToString() : value;
        if (path.Length == 0)
        {
            throw Error(line, key, value, "The value has nothing after '-'; write -/path/to/file (the '-' makes a missing file not an error).");
        }

        if (SystemdText.HasControlCharacter(path))
        {
            throw Error(line, key, value, "The value contains a control character; write a file path.");
        }

        // As systemd requires: a relative path would be read from wherever the daemon happens to run. (A specifier
        // such as %h expands to an absolute path; what it expands to is checked at start.)
        if (path[0] is not ('/' or '%'))
        {
            throw Error(line, key, value, "The path is not absolute; write /path/to/file.");
        }

        _environmentFiles.Add(new EnvironmentFileReference(path, optional));
    }

    private long? ParseMemory(string key, string value, int line)
    {
        if (value == "infinity")
        {
            return null;
        }

        long bytes;
        if (value.EndsWith('%'))
        {
            if (!SystemdValues.TryParsePercentBasisPoints(value, out var basisPoints))
            {
                throw Error(line, key, value, "The value is not a percentage; write a whole or decimal percentage of physical memory such as 50%.");
            }

            if (basisPoints > 10_000)
            {
                throw Error(line, key, value, "The value is more than 100% of physical memory; write at most 100%, or infinity for no limit.");
            }

            if (HostResources.PhysicalMemoryBytes is not { } total)
            {
                throw Error(line, key, value, "The value is a percentage of physical memory, which cannot be read on this machine (/proc/meminfo); write a size in bytes such as 512M.");
            }

            bytes = (long)((Int128)total * basisPoints / 10_000);
        }
        else if (!SystemdValues.TryParseBytes(value, out bytes))
        {
            throw Error(line, key, value, "The value is not a memory size; write bytes with an optional K, M, G, T or P suffix (base 1024) such as 512M or 2G, a percentage such as 50%, or infinity.");
        }

        if (bytes <= 0)
        {
            throw Error(line, key, value, "The value is zero, which would leave the service no memory; write a size such as 512M, or infinity for no limit.");
        }

        return bytes;
    }

    private int ParseCpuQuota(string key, string value, int line)
    {
        if (!value.EndsWith('%'))
        {
            throw Error(line, key, value, "The value is not a CPU quota: write a percentage of one CPU such as 50% or 150% (for 1.5 CPUs).");
        }

        if (!SystemdValues.TryParsePercentBasisPoints(value, out var basisPoints))
        {
            throw Error(line, key, value, "The value is not a CPU quota: write a whole percentage of one CPU such as 50% or 150% (for 1.5 CPUs).");
        }

        if (basisPoints % 100 != 0)
        {
            throw Error(line, key, value, "The value has a fraction of a percent, which GitProc does not take; write a whole percentage such as 12%.");
        }

        var percent = basisPoints / 100;
        if (percent <= 0)
        {
            throw Error(line, key, value, "The value is zero, which would give the service no CPU time; write a percentage above 0, such as 50%.");
        }

        if (percent > int.MaxValue)
        {
            throw Error(line, key, value, "The value is too large; write a percentage of one CPU such as 400% for four CPUs.");
        }

        return (int)percent;
    }

    private long? ParseTasksMax(string key, string value, int line)
    {
        if (value == "infinity")
        {
            return null;
        }

        long tasks;
        if (value.EndsWith('%'))
        {
            if (!SystemdValues.TryParsePercentBasisPoints(value, out var basisPoints))
            {
                throw Error(line, key, value, "The value is not a percentage; write a whole or decimal percentage of the system's pid limit such as 10%.");
            }

            if (basisPoints > 10_000)
            {
                throw Error(line, key, value, "The value is more than 100% of the system's pid limit; write at most 100%, or infinity for no limit.");
            }

            if (HostResources.MaxPids is not { } pidMax)
            {
                throw Error(line, key, value, "The value is a percentage of the system's pid limit, which cannot be read on this machine (/proc/sys/kernel/pid_max); write a number of tasks.");
            }

            tasks = pidMax * basisPoints / 10_000;
        }
        else if (!SystemdValues.TryParseNonNegative(value, long.MaxValue, out tasks))
        {
            throw Error(line, key, value, "The value is not a number of tasks; write a whole number such as 512, a percentage such as 10%, or infinity.");
        }

        if (tasks <= 0)
        {
            throw Error(line, key, value, "The value is zero, which would not let the service start a single process; write 1 or more, or infinity.");
        }

        return tasks;
    }

    /// <summary>systemd's <c>rlimit_parse()</c> for a plain count: <c>N</c> (soft and hard), <c>SOFT:HARD</c>, <c>infinity</c>.</summary>
    private ProcessLimit ParseOpenFileLimit(string key, string value, int line)
    {
        const string Hint = "write a number of open files such as 4096, SOFT:HARD such as 1024:524288, or infinity";
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var softText = colon < 0 ? value : value[..colon];
        var hardText = colon < 0 ? value : value[(colon + 1)..];
        if (!TryParseLimit(softText, out var soft) || !TryParseLimit(hardText, out var hard))
        {
            throw Error(line, key, value, $"The value is not an open-file limit; {Hint}.");
        }

        if (soft == 0 || hard == 0)
        {
            throw Error(line, key, value, "The value is zero, which would leave the service no file descriptors (not even for loading its libraries); write 1 or more, or infinity.");
        }

        if (soft > hard)
        {
            throw Error(line, key, value, "The soft limit is above the hard limit; write SOFT:HARD with SOFT at most HARD, such as 1024:524288.");
        }

        return new ProcessLimit(soft, hard);

        static bool TryParseLimit(string text, out ulong limit)
        {
            limit = ProcessLimit.Infinity;
            if (text == "infinity")
            {
                return true;
            }

            var parsed = SystemdValues.TryParseNonNegative(text, long.MaxValue, out var number);
            limit = (ulong)number;
            return parsed;
        }
    }

    private Uri ParseHealthCheckUrl(string key, string value, int line)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0)
        {
            throw Error(line, key, value, "The value is not an absolute http:// or https:// URL; write one such as http://127.0.0.1:8080/health.");
        }

        return uri;
    }
}

using System.Collections.Frozen;

namespace GitProc.UnitFiles;

/// <summary>
/// Every key systemd knows in the sections of a service unit, so that a key GitProc does not act on can be told apart
/// from a misspelt one: the first is kept with a warning, the second is an error with a suggestion.
/// </summary>
/// <remarks>
/// The lists are systemd's own (its <c>load-fragment-gperf.gperf</c> table, which systemd.unit(5), systemd.service(5),
/// systemd.exec(5), systemd.kill(5) and systemd.resource-control(5) document): the union of version 252 (Debian 12) and
/// the current one, legacy names included, so a unit written for any systemd still in use loads. A key systemd adds
/// later is an error here until it is added to these lists, which <c>UnitFiles:UnknownKeys=Warn</c> relaxes meanwhile.
/// </remarks>
internal static class SystemdKeys
{
    internal const string UnitSection = "Unit";
    internal const string ServiceSection = "Service";
    internal const string InstallSection = "Install";

    /// <summary>The keys GitProc adds to <c>[Service]</c>; systemd has no health checks.</summary>
    internal static readonly FrozenSet<string> GitProcServiceKeys = FrozenSet.ToFrozenSet(
    [
        "HealthCheckURL", "HealthCheckInterval", "HealthCheckTimeout", "HealthCheckRetries",
    ], StringComparer.Ordinal);

    /// <summary>The sections of other unit types: a service unit does not use them, but they are systemd's, not typos.</summary>
    internal static readonly FrozenSet<string> OtherUnitTypeSections = FrozenSet.ToFrozenSet(
    [
        "Socket", "Mount", "Automount", "Swap", "Timer", "Path", "Slice", "Scope",
    ], StringComparer.Ordinal);

    /// <summary>systemd.unit(5) <c>[Unit]</c>, with legacy names.</summary>
    internal static readonly FrozenSet<string> Unit = FrozenSet.ToFrozenSet(
    [
        "After", "AllowIsolate", "AssertACPower", "AssertArchitecture", "AssertCPUFeature", "AssertCPUPressure",
        "AssertCPUs", "AssertCapability", "AssertControlGroupController", "AssertCredential",
        "AssertDirectoryNotEmpty", "AssertEnvironment", "AssertFileIsExecutable", "AssertFileNotEmpty",
        "AssertFirstBoot", "AssertGroup", "AssertHost", "AssertIOPressure", "AssertKernelCommandLine",
        "AssertKernelModuleLoaded", "AssertKernelVersion", "AssertMemory", "AssertMemoryPressure", "AssertNeedsUpdate",
        "AssertOSRelease", "AssertPathExists", "AssertPathExistsGlob", "AssertPathIsDirectory",
        "AssertPathIsEncrypted", "AssertPathIsMountPoint", "AssertPathIsReadWrite", "AssertPathIsSymbolicLink",
        "AssertSecurity", "AssertUser", "AssertVersion", "AssertVirtualization", "Before", "BindTo", "BindsTo",
        "CollectMode", "ConditionACPower", "ConditionArchitecture", "ConditionCPUFeature", "ConditionCPUPressure",
        "ConditionCPUs", "ConditionCapability", "ConditionControlGroupController", "ConditionCredential",
        "ConditionDirectoryNotEmpty", "ConditionEnvironment", "ConditionFileIsExecutable", "ConditionFileNotEmpty",
        "ConditionFirmware", "ConditionFirstBoot", "ConditionGroup", "ConditionHost", "ConditionIOPressure",
        "ConditionKernelCommandLine", "ConditionKernelModuleLoaded", "ConditionKernelVersion", "ConditionMemory",
        "ConditionMemoryPressure", "ConditionNeedsUpdate", "ConditionOSRelease", "ConditionPathExists",
        "ConditionPathExistsGlob", "ConditionPathIsDirectory", "ConditionPathIsEncrypted", "ConditionPathIsMountPoint",
        "ConditionPathIsReadWrite", "ConditionPathIsSymbolicLink", "ConditionSecurity", "ConditionUser",
        "ConditionVersion", "ConditionVirtualization", "Conflicts", "DefaultDependencies", "Description",
        "Documentation", "FailureAction", "FailureActionExitStatus", "IgnoreOnIsolate", "IgnoreOnSnapshot",
        "JobRunningTimeoutSec", "JobTimeoutAction", "JobTimeoutRebootArgument", "JobTimeoutSec", "JoinsNamespaceOf",
        "OnFailure", "OnFailureIsolate", "OnFailureJobMode", "OnSuccess", "OnSuccessJobMode", "PartOf",
        "PropagateReloadFrom", "PropagateReloadTo", "PropagatesReloadTo", "PropagatesStopTo", "RebootArgument",
        "RefuseManualStart", "RefuseManualStop", "ReloadPropagatedFrom", "Requires", "RequiresMountsFor",
        "RequiresOverridable", "Requisite", "RequisiteOverridable", "SourcePath", "StartLimitAction",
        "StartLimitBurst", "StartLimitInterval", "StartLimitIntervalSec", "StopPropagatedFrom", "StopWhenUnneeded",
        "SuccessAction", "SuccessActionExitStatus", "SurviveFinalKillSignal", "Upholds", "Wants", "WantsMountsFor",
    ], StringComparer.Ordinal);

    /// <summary>
    /// systemd.service(5) <c>[Service]</c> with the exec, kill and resource-control keys every service takes
    /// (systemd.exec(5), systemd.kill(5), systemd.resource-control(5)), legacy names included.
    /// </summary>
    internal static readonly FrozenSet<string> Service = FrozenSet.ToFrozenSet(
    [
        "AllowedCPUs", "AllowedMemoryNodes", "AmbientCapabilities", "AppArmorProfile", "BPFDelegateAttachments",
        "BPFDelegateCommands", "BPFDelegateMaps", "BPFDelegatePrograms", "BPFProgram", "BindLogSockets", "BindPaths",
        "BindReadOnlyPaths", "BlockIOAccounting", "BlockIODeviceWeight", "BlockIOReadBandwidth", "BlockIOWeight",
        "BlockIOWriteBandwidth", "BusName", "BusPolicy", "CPUAccounting", "CPUAffinity", "CPUQuota",
        "CPUQuotaPeriodSec", "CPUSchedulingPolicy", "CPUSchedulingPriority", "CPUSchedulingResetOnFork", "CPUShares",
        "CPUWeight", "CacheDirectory", "CacheDirectoryAccounting", "CacheDirectoryMode", "CacheDirectoryQuota",
        "Capabilities", "CapabilityBoundingSet", "ConfigurationDirectory", "ConfigurationDirectoryMode",
        "CoredumpFilter", "CoredumpReceive", "DefaultMemoryLow", "DefaultMemoryMin", "DefaultStartupMemoryLow",
        "Delegate", "DelegateNamespaces", "DelegateSubgroup", "DeviceAllow", "DevicePolicy", "DisableControllers",
        "DynamicUser", "Environment", "EnvironmentFile", "ExecCondition", "ExecPaths", "ExecReload", "ExecSearchPath",
        "ExecStart", "ExecStartPost", "ExecStartPre", "ExecStop", "ExecStopPost", "ExitType", "ExtensionDirectories",
        "ExtensionImagePolicy", "ExtensionImages", "FailureAction", "FileDescriptorStoreMax",
        "FileDescriptorStorePreserve", "FinalKillSignal", "Group", "GuessMainPID", "IOAccounting",
        "IODeviceLatencyTargetSec", "IODeviceWeight", "IOReadBandwidthMax", "IOReadIOPSMax", "IOSchedulingClass",
        "IOSchedulingPriority", "IOWeight", "IOWriteBandwidthMax", "IOWriteIOPSMax", "IPAccounting", "IPAddressAllow",
        "IPAddressDeny", "IPCNamespacePath", "IPEgressFilterPath", "IPIngressFilterPath", "IgnoreSIGPIPE",
        "ImportCredential", "InaccessibleDirectories", "InaccessiblePaths", "KeyringMode", "KillMode", "KillSignal",
        "LandlockConfig", "LimitAS", "LimitCORE", "LimitCPU", "LimitDATA", "LimitFSIZE", "LimitLOCKS", "LimitMEMLOCK",
        "LimitMSGQUEUE", "LimitNICE", "LimitNOFILE", "LimitNPROC", "LimitRSS", "LimitRTPRIO", "LimitRTTIME",
        "LimitSIGPENDING", "LimitSTACK", "LoadCredential", "LoadCredentialEncrypted", "LockPersonality",
        "LogExtraFields", "LogFilterPatterns", "LogLevelMax", "LogNamespace", "LogRateLimitBurst",
        "LogRateLimitIntervalSec", "LogsDirectory", "LogsDirectoryAccounting", "LogsDirectoryMode",
        "LogsDirectoryQuota", "ManagedOOMMemoryPressure", "ManagedOOMMemoryPressureDurationSec",
        "ManagedOOMMemoryPressureLimit", "ManagedOOMPreference", "ManagedOOMSwap", "MemoryAccounting",
        "MemoryDenyWriteExecute", "MemoryHigh", "MemoryKSM", "MemoryLimit", "MemoryLow", "MemoryMax", "MemoryMin",
        "MemoryPressureThresholdSec", "MemoryPressureWatch", "MemorySwapMax", "MemoryZSwapMax", "MemoryZSwapWriteback",
        "MountAPIVFS", "MountFlags", "MountImagePolicy", "MountImages", "NFTSet", "NUMAMask", "NUMAPolicy", "NetClass",
        "NetworkNamespacePath", "Nice", "NoExecPaths", "NoNewPrivileges", "NonBlocking", "NotifyAccess", "OOMPolicy",
        "OOMScoreAdjust", "OpenFile", "PAMName", "PIDFile", "PassEnvironment", "PermissionsStartOnly", "Personality",
        "PrivateBPF", "PrivateDevices", "PrivateIPC", "PrivateMounts", "PrivateNetwork", "PrivatePIDs", "PrivateTmp",
        "PrivateUsers", "ProcSubset", "ProtectClock", "ProtectControlGroups", "ProtectHome", "ProtectHostname",
        "ProtectKernelLogs", "ProtectKernelModules", "ProtectKernelTunables", "ProtectProc", "ProtectSystem",
        "ReadOnlyDirectories", "ReadOnlyPaths", "ReadWriteDirectories", "ReadWritePaths", "RebootArgument",
        "ReloadSignal", "RemainAfterExit", "RemoveIPC", "Restart", "RestartForceExitStatus", "RestartKillSignal",
        "RestartMaxDelaySec", "RestartMode", "RestartPreventExitStatus", "RestartSec", "RestartSteps",
        "RestrictAddressFamilies", "RestrictFileSystems", "RestrictNamespaces", "RestrictNetworkInterfaces",
        "RestrictRealtime", "RestrictSUIDSGID", "RootDirectory", "RootDirectoryStartOnly", "RootEphemeral", "RootHash",
        "RootHashSignature", "RootImage", "RootImageOptions", "RootImagePolicy", "RootVerity", "RuntimeDirectory",
        "RuntimeDirectoryMode", "RuntimeDirectoryPreserve", "RuntimeMaxSec", "RuntimeRandomizedExtraSec",
        "SELinuxContext", "SecureBits", "SendSIGHUP", "SendSIGKILL", "SetCredential", "SetCredentialEncrypted",
        "SetLoginEnvironment", "Slice", "SmackProcessLabel", "SocketBindAllow", "SocketBindDeny", "Sockets",
        "StandardError", "StandardInput", "StandardInputData", "StandardInputText", "StandardOutput",
        "StartLimitAction", "StartLimitBurst", "StartLimitInterval", "StartupAllowedCPUs", "StartupAllowedMemoryNodes",
        "StartupBlockIOWeight", "StartupCPUShares", "StartupCPUWeight", "StartupIOWeight", "StartupMemoryHigh",
        "StartupMemoryLow", "StartupMemoryMax", "StartupMemorySwapMax", "StartupMemoryZSwapMax", "StateDirectory",
        "StateDirectoryAccounting", "StateDirectoryMode", "StateDirectoryQuota", "SuccessExitStatus",
        "SupplementaryGroups", "SysVStartPriority", "SyslogFacility", "SyslogIdentifier", "SyslogLevel",
        "SyslogLevelPrefix", "SystemCallArchitectures", "SystemCallErrorNumber", "SystemCallFilter", "SystemCallLog",
        "TTYColumns", "TTYPath", "TTYReset", "TTYRows", "TTYVHangup", "TTYVTDisallocate", "TasksAccounting",
        "TasksMax", "TemporaryFileSystem", "TimeoutAbortSec", "TimeoutCleanSec", "TimeoutSec",
        "TimeoutStartFailureMode", "TimeoutStartSec", "TimeoutStopFailureMode", "TimeoutStopSec", "TimerSlackNSec",
        "Type", "UMask", "USBFunctionDescriptors", "USBFunctionStrings", "UnsetEnvironment", "User", "UtmpIdentifier",
        "UtmpMode", "WatchdogSec", "WatchdogSignal", "WorkingDirectory",
    ], StringComparer.Ordinal);

    /// <summary>systemd.unit(5) <c>[Install]</c>.</summary>
    internal static readonly FrozenSet<string> Install = FrozenSet.ToFrozenSet(
    [
        "Alias", "Also", "DefaultInstance", "RequiredBy", "UpheldBy", "WantedBy",
    ], StringComparer.Ordinal);

    private static readonly string[] ServiceUnitSections = [UnitSection, ServiceSection, InstallSection];

    /// <summary>The keys systemd or GitProc know in a section of a service unit; <see langword="null"/> for any other section.</summary>
    internal static IReadOnlySet<string>? KeysOf(string section) => section switch
    {
        UnitSection => Unit,
        ServiceSection => Service,
        InstallSection => Install,
        _ => null,
    };

    /// <summary>Whether systemd or GitProc knows <paramref name="key"/> in <paramref name="section"/>.</summary>
    internal static bool IsKnown(string section, string key) =>
        KeysOf(section) is { } keys && (keys.Contains(key) || (section == ServiceSection && GitProcServiceKeys.Contains(key)));

    /// <summary>The other section of a service unit where <paramref name="key"/> is known, if any.</summary>
    internal static string? OtherSectionOf(string section, string key)
    {
        foreach (var other in ServiceUnitSections)
        {
            if (other != section && IsKnown(other, key))
            {
                return other;
            }
        }

        return null;
    }

    /// <summary>
    /// The known key <paramref name="key"/> was most likely meant to be: the same letters in another case (in this
    /// section, else in another one, returned with that section), else the closest key by edit distance when it is
    /// close enough to be a typo (of this section, else of another one). <see langword="null"/> when nothing is plausible.
    /// </summary>
    /// <param name="section">The section the key is in.</param>
    /// <param name="key">The unknown key.</param>
    /// <param name="preferred">Keys to pick first among equally close ones (those GitProc acts on).</param>
    /// <returns>The suggested key and the section it belongs in.</returns>
    internal static (string Key, string Section)? Suggest(string section, string key, IReadOnlySet<string> preferred)
    {
        foreach (var candidate in AllKeysOf(section))
        {
            if (string.Equals(candidate, key, StringComparison.OrdinalIgnoreCase))
            {
                return (candidate, section);
            }
        }

        foreach (var other in ServiceUnitSections)
        {
            if (other == section)
            {
                continue;
            }

            foreach (var candidate in AllKeysOf(other))
            {
                if (string.Equals(candidate, key, StringComparison.OrdinalIgnoreCase))
                {
                    return (candidate, other);
                }
            }
        }

        if (Closest(key, AllKeysOf(section), preferred) is { } closest)
        {
            return (closest, section);
        }

        // A typo of a key that lives in another section (Descripton= under [Service]): the key it was meant to be is
        // still the best hint, with the section it belongs in.
        foreach (var other in ServiceUnitSections)
        {
            if (other != section && Closest(key, AllKeysOf(other), preferred) is { } elsewhere)
            {
                return (elsewhere, other);
            }
        }

        return null;
    }

    /// <summary>The known section <paramref name="name"/> was most likely meant to be, as for keys.</summary>
    internal static string? SuggestSection(string name)
    {
        var trimmed = name.Trim();
        foreach (var section in ServiceUnitSections.Concat(OtherUnitTypeSections))
        {
            if (string.Equals(section, trimmed, StringComparison.OrdinalIgnoreCase))
            {
                return section;
            }
        }

        return Closest(trimmed, ServiceUnitSections, preferred: null);
    }

    private static IEnumerable<string> AllKeysOf(string section) =>
        section == ServiceSection ? Service.Concat(GitProcServiceKeys) : KeysOf(section) ?? Enumerable.Empty<string>();

    /// <summary>
    /// The candidate nearest to <paramref name="word"/> by edit distance (case-insensitive, a swap of two neighbours
    /// counting as one edit), when within a third of the word's length (at least one edit, at most three): enough for
    /// <c>Restrat</c> → <c>Restart</c>, not so much that an unrelated key is offered.
    /// </summary>
    private static string? Closest(string word, IEnumerable<string> candidates, IReadOnlySet<string>? preferred)
    {
        var limit = Math.Clamp(word.Length / 3, 1, 3);
        string? best = null;
        (int Distance, int Rank) bestScore = (int.MaxValue, int.MaxValue);
        foreach (var candidate in candidates)
        {
            if (Math.Abs(candidate.Length - word.Length) > limit)
            {
                continue;
            }

            // Ties go to a key GitProc acts on, then to the first in ordinal order, so the answer never varies.
            var score = (EditDistance(word, candidate), preferred is not null && preferred.Contains(candidate) ? 0 : 1);
            if (score.Item1 <= limit
                && (score.CompareTo(bestScore) < 0 || (score == bestScore && string.CompareOrdinal(candidate, best) < 0)))
            {
                best = candidate;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Optimal string alignment distance (Levenshtein with adjacent transpositions), ignoring case.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous2 = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]) ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1
                    && char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 2])
                    && char.ToUpperInvariant(a[i - 2]) == char.ToUpperInvariant(b[j - 1]))
                {
                    value = Math.Min(value, previous2[j - 2] + 1);
                }

                current[j] = value;
            }

            (previous2, previous, current) = (previous, current, previous2);
        }

        return previous[b.Length];
    }
}

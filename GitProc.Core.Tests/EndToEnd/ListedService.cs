namespace GitProc.Core.Tests.EndToEnd;

/// <summary>One entry of the daemon's <c>list</c> data, as read off the socket.</summary>
internal sealed record ListedService(string Name, string Status, int? Pid, int? LastExitCode);

using Microsoft.Extensions.Logging;

namespace GitProc.Core.Tests.State;

/// <summary>One entry written to a <see cref="CapturingLogger{T}"/>.</summary>
internal sealed record CapturedLogEntry(LogLevel Level, int EventId, string Message);

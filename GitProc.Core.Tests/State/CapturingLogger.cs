using Microsoft.Extensions.Logging;

namespace GitProc.Core.Tests.State;

/// <summary>An <see cref="ILogger{T}"/> that keeps what it is given, for asserting on log output.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly List<CapturedLogEntry> _entries = [];

    public IReadOnlyList<CapturedLogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add(new CapturedLogEntry(logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}

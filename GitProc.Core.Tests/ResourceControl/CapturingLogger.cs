using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>An <see cref="ILogger{T}"/> that keeps what is logged, so tests can check warnings.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, EventId EventId, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));
    }

    public IReadOnlyList<string> Messages(int eventId) =>
        Entries.Where(e => e.EventId.Id == eventId).Select(e => e.Message).ToList();
}

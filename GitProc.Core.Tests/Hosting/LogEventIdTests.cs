using System.Reflection;
using GitProc.Hosting;
using Microsoft.Extensions.Logging;

namespace GitProc.Core.Tests.Hosting;

/// <summary>
/// Every log message of GitProc's libraries has its own event id, so an operator's filter or alert on an id
/// (journald's <c>GITPROC_EVENT_ID</c>, a log pipeline's field) matches exactly one kind of message.
/// </summary>
public sealed class LogEventIdTests
{
    [Test]
    public void No_two_log_messages_share_an_event_id()
    {
        var messages = new[] { typeof(GitProcOptions).Assembly, typeof(GitProcDaemonService).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (Method: method, Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();

        var shared = messages
            .GroupBy(m => m.Attribute!.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(m => $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}"))}")
            .ToList();

        Assert.That(messages, Has.Count.GreaterThan(100), "the log messages were found");
        Assert.That(shared, Is.Empty);
    }
}

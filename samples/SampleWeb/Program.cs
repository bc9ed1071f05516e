using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

// A tiny HTTP service for the GitProc demo: GET / answers a greeting, GET /health answers "ok" (GitProc's
// HealthCheckURL polls it), and each request is logged as one line on stdout, which GitProc stores in the
// service's log. Usage: SampleWeb [--port N] (default 18080, or $PORT); GREETING sets the greeting.
var port = ReadPort(args);
var greeting = Environment.GetEnvironmentVariable("GREETING") is { Length: > 0 } g ? g : "Hello from a service supervised by GitProc";

using var listener = new HttpListener();
// Loopback only; both names, since the listener matches the Host header against its prefixes.
listener.Prefixes.Add($"http://127.0.0.1:{port}/");
listener.Prefixes.Add($"http://localhost:{port}/");
listener.Start();
Console.WriteLine($"SampleWeb listening on http://127.0.0.1:{port}/ (pid {Environment.ProcessId})");

// GitProc stops a service with SIGTERM (its KillSignal): leave cleanly, with a last log line.
using var stopping = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

var started = DateTimeOffset.UtcNow;
while (!stopping.IsCancellationRequested)
{
    HttpListenerContext context;
    try
    {
        context = await listener.GetContextAsync().WaitAsync(stopping.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }

    var path = context.Request.Url?.AbsolutePath ?? "/";
    var (status, body) = path switch
    {
        "/" => (200, greeting + "\n"),
        "/health" => (200, "ok\n"),
        _ => (404, "not found\n"),
    };

    var bytes = Encoding.UTF8.GetBytes(body);
    context.Response.StatusCode = status;
    context.Response.ContentType = "text/plain; charset=utf-8";
    context.Response.ContentLength64 = bytes.Length;
    await context.Response.OutputStream.WriteAsync(bytes);
    context.Response.Close();

    var uptime = (int)(DateTimeOffset.UtcNow - started).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{context.Request.HttpMethod} {path} -> {status} (up {uptime}s)"));
}

Console.WriteLine("SampleWeb stopping");
return 0;

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}

static int ReadPort(string[] args)
{
    var text = args is ["--port", var value] ? value : Environment.GetEnvironmentVariable("PORT");
    if (text is null)
    {
        return 18080;
    }

    if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
    {
        Console.Error.WriteLine($"SampleWeb: '{text}' is not a TCP port (1-65535).");
        Environment.Exit(2);
    }

    return port;
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A real Prometheus server (Debian's package) on 127.0.0.1, its configuration and data in a directory of the test's,
/// scraping one target every second; disposing stops it by its pid (SIGTERM, then SIGKILL).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(Process process, int port)
    {
        _process = process;
        Port = port;
        _client.BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts it scraping <c>127.0.0.1:<paramref name="targetPort"/></c> with <paramref name="ruleFiles"/> loaded, and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string directory, int targetPort, IReadOnlyList<string> ruleFiles, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "prometheus.yml");
        var rules = string.Concat(ruleFiles.Select(f => $"\n  - {f}"));
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:{rules}
            scrape_configs:
              - job_name: gitproc
                static_configs:
                  - targets: ['127.0.0.1:{targetPort}']

            """, cancellationToken);

        var port = Scrape.FreePort();
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[]
        {
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var server = new PrometheusServer(process, port);
        process.OutputDataReceived += (_, e) => server.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => server.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                Assert.Fail($"prometheus exited with {process.ExitCode}:\n{server.Output}");
            }

            try
            {
                using var ready = await server._client.GetAsync(new Uri("/-/ready", UriKind.Relative), cancellationToken);
                if (ready.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                Assert.Fail($"prometheus was not ready within 30 s:\n{server.Output}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    /// <summary>GETs an API path and returns its <c>data</c>, failing the test unless the status is success.</summary>
    public async Task<JsonElement> ApiAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var text = await _client.GetStringAsync(new Uri(pathAndQuery, UriKind.Relative), cancellationToken);
        using var document = JsonDocument.Parse(text);
        Assert.That(document.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), text);
        return document.RootElement.GetProperty("data").Clone();
    }

    /// <summary>An instant PromQL query's single value, or <see langword="null"/> when the result is empty.</summary>
    public async Task<double?> QueryAsync(string promQl, CancellationToken cancellationToken)
    {
        var data = await ApiAsync("/api/v1/query?query=" + Uri.EscapeDataString(promQl), cancellationToken);
        var result = data.GetProperty("result");
        Assert.That(result.GetArrayLength(), Is.LessThanOrEqualTo(1), $"{promQl} gave several series: {result}");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Interop.Processes.Kill(_process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _ = Interop.Processes.Kill(_process.Id, 9);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        _process.Dispose();
        _client.Dispose();
    }
}

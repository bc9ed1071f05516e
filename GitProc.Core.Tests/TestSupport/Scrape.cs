using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A scrape's samples by series, as written (<c>name{labels}</c>), checking the text's structure on the way: every
/// family announced by one <c># HELP</c> and one <c># TYPE</c> before its samples, every sample line
/// <c>series value</c>.
/// </summary>
internal sealed class Scrape
{
    private readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);

    public Scrape(string text)
    {
        Text = text;
        var typed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var family = line.Split(' ')[2];
                Assert.That(typed.Add(family), Is.True, $"{family} is typed twice:\n{text}");
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            Assert.That(space, Is.GreaterThan(0), $"not a sample line: {line}");
            var series = line[..space];
            var name = series.Split('{')[0];
            Assert.That(typed.Any(f => name == f || name.StartsWith(f + "_", StringComparison.Ordinal)), Is.True, $"{name} has no # TYPE before it:\n{text}");
            var value = line[(space + 1)..];
            _samples[series] = value == "+Inf" ? double.PositiveInfinity : double.Parse(value, CultureInfo.InvariantCulture);
        }
    }

    public string Text { get; }

    public IReadOnlyDictionary<string, double> Samples => _samples;

    /// <summary>The sample of a series, or <see langword="null"/> when the scrape has none.</summary>
    public double? this[string series] => _samples.TryGetValue(series, out var value) ? value : null;

    /// <summary>The series of one metric name.</summary>
    public IEnumerable<string> SeriesOf(string name) =>
        _samples.Keys.Where(k => k == name || k.StartsWith(name + "{", StringComparison.Ordinal));

    public override string ToString() => Text;

    /// <summary>GETs <c>http://127.0.0.1:PORT/metrics</c> as Prometheus would; fails the test on anything but 200.</summary>
    public static async Task<Scrape> FetchAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        return new Scrape(text);
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (the system's choice for port 0).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

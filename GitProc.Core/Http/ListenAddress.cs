using System.Globalization;
using System.Net;

namespace GitProc.Http;

/// <summary>Parses <see cref="Metrics.MetricsOptions.Listen"/> and <see cref="Web.WebOptions.Listen"/>: <c>HOST:PORT</c> or a port alone (loopback).</summary>
internal static class ListenAddress
{
    /// <summary>The endpoint, or <see langword="null"/> and why the text is not one.</summary>
    public static IPEndPoint? Parse(string text, out string? error)
    {
        error = null;
        var trimmed = text.Trim();
        string host;
        string port;
        if (trimmed.StartsWith('['))
        {
            // [v6-address]:port
            var close = trimmed.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= trimmed.Length || trimmed[close + 1] != ':')
            {
                error = "an IPv6 address needs brackets and a port, such as [::1]:9101";
                return null;
            }

            host = trimmed[1..close];
            port = trimmed[(close + 2)..];
        }
        else if (trimmed.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
        {
            if (trimmed.IndexOf(':', colon + 1) >= 0)
            {
                error = "an IPv6 address needs brackets and a port, such as [::1]:9101";
                return null;
            }

            host = trimmed[..colon];
            port = trimmed[(colon + 1)..];
            if (host.Length == 0)
            {
                error = "give the host too: 127.0.0.1:PORT for this machine only, 0.0.0.0:PORT for every interface";
                return null;
            }
        }
        else
        {
            host = "127.0.0.1";
            port = trimmed;
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            error = $"the port must be a number from 1 to 65535 (was '{port}')";
            return null;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, number);
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            error = $"the host must be an IP address or localhost (was '{host}'); names are not resolved";
            return null;
        }

        return new IPEndPoint(address, number);
    }
}

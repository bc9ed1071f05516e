using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A real Git server on 127.0.0.1 for the remote tests, in its own temporary directory: a bare repository
/// (<see cref="BareRepository"/>, written to directly for "a push on the server side"), the server processes started by
/// the test (found and stopped by their PIDs), and the client's material (CA, keys). Disposing stops every process it
/// started and deletes the directory. Needs root (sshd; nginx's workers) and the Debian packages named in each factory.
/// </summary>
[SupportedOSPlatform("linux")]
internal abstract class GitServer : IAsyncDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private readonly List<Process> _processes = [];

    protected GitServer()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("gitproc-server-").FullName;
        BareRepository = Path.Combine(Directory, "srv", "units.git");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(BareRepository)!);
        Port = FreePort();
    }

    /// <summary>The server's temporary directory.</summary>
    public string Directory { get; }

    /// <summary>The repository the server serves.</summary>
    public string BareRepository { get; }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>The URL a client fetches from.</summary>
    public abstract string Url { get; }

    /// <summary>The PIDs of the processes this server started.</summary>
    public IReadOnlyList<int> Pids => [.. _processes.Select(p => p.Id)];

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                }
            }
            catch (InvalidOperationException)
            {
                // Ended meanwhile.
            }

            process.Dispose();
        }

        await CleanUpAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans /tmp eventually.
        }
    }

    /// <summary>What a server undoes besides its processes and directory.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>Runs a tool to completion in the server's directory; fails the test on a non-zero exit.</summary>
    public async Task<string> RunAsync(string fileName, params string[] args)
    {
        using var process = new Process { StartInfo = Info(fileName, args) };
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var expiry = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(expiry.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', args)} did not finish within {ToolTimeout.TotalSeconds} s.");
        }

        Assert.That(process.ExitCode, Is.Zero, $"{fileName} {string.Join(' ', args)}: {await stderr}");
        return (await stdout).Trim();
    }

    /// <summary>Starts a long-running server process (kept until disposal) and waits until the port accepts connections.</summary>
    protected async Task StartAsync(string fileName, string[] args, bool waitForPort)
    {
        var process = Process.Start(Info(fileName, args))!;
        _processes.Add(process);
        process.StandardInput.Close();
        var output = new List<string>();
        process.OutputDataReceived += (_, e) => { lock (output) { if (e.Data is { } line) { output.Add(line); } } };
        process.ErrorDataReceived += (_, e) => { lock (output) { if (e.Data is { } line) { output.Add(line); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!waitForPort)
        {
            return;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                lock (output)
                {
                    Assert.Fail($"{fileName} did not listen on 127.0.0.1:{Port}: {string.Join('\n', output)}");
                }
            }
        }
    }

    private ProcessStartInfo Info(string fileName, string[] args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Writes a file readable by its owner only.</summary>
    public static void WritePrivate(string path, string content)
    {
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// nginx (Debian <c>nginx-light</c>) with TLS from a CA the server makes, basic authentication from an htpasswd file, and
/// <c>git http-backend</c> behind fcgiwrap (Debian <c>fcgiwrap</c>) on a unix socket.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class HttpsGitServer : GitServer
{
    private HttpsGitServer(string username, string password)
    {
        Username = username;
        Password = password;
    }

    public string Username { get; }

    public string Password { get; }

    /// <summary>The CA certificate (PEM) the server's certificate chains to.</summary>
    public string CaFile => Path.Combine(Directory, "ca.crt");

    public override string Url => string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{Port}/units.git");

    public static async Task<HttpsGitServer> StartAsync(string username, string password)
    {
        var nginx = Tools.Require("nginx", "nginx-light");
        var fcgiwrap = Tools.Require("fcgiwrap", "fcgiwrap");
        var openssl = Tools.Require("openssl", "openssl");
        const string Backend = "/usr/lib/git-core/git-http-backend";
        if (!File.Exists(Backend))
        {
            Assert.Ignore($"needs {Backend} (Debian package git)");
        }

        var server = new HttpsGitServer(username, password);
        try
        {
            var d = server.Directory;
            await server.RunAsync("git", "init", "-q", "--bare", "-b", "main", server.BareRepository);
            string[] ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
            await server.RunAsync(openssl, ["req", "-x509", .. ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=GitProc test CA"]);
            await server.RunAsync(openssl, ["req", .. ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
            await File.WriteAllTextAsync(Path.Combine(d, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
            await server.RunAsync(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext");
            var hash = await server.RunAsync(openssl, "passwd", "-apr1", password);
            await File.WriteAllTextAsync(Path.Combine(d, "htpasswd"), $"{username}:{hash}\n");
            await File.WriteAllTextAsync(Path.Combine(d, "nginx.conf"), $$"""
                daemon off;
                master_process off;
                user root;
                pid {{d}}/nginx.pid;
                error_log {{d}}/error.log;
                events {}
                http {
                  access_log {{d}}/access.log;
                  client_body_temp_path {{d}}/body; fastcgi_temp_path {{d}}/fcgi; proxy_temp_path {{d}}/proxy;
                  uwsgi_temp_path {{d}}/uwsgi; scgi_temp_path {{d}}/scgi;
                  server {
                    listen 127.0.0.1:{{server.Port}} ssl;
                    ssl_certificate {{d}}/server.crt;
                    ssl_certificate_key {{d}}/server.key;
                    auth_basic "git";
                    auth_basic_user_file {{d}}/htpasswd;
                    location / {
                      fastcgi_pass unix:{{d}}/fcgiwrap.sock;
                      include /etc/nginx/fastcgi_params;
                      fastcgi_param SCRIPT_FILENAME {{Backend}};
                      fastcgi_param GIT_PROJECT_ROOT {{d}}/srv;
                      fastcgi_param GIT_HTTP_EXPORT_ALL "";
                      fastcgi_param PATH_INFO $uri;
                      fastcgi_param REMOTE_USER $remote_user;
                    }
                  }
                }
                """);
            await server.StartAsync(fcgiwrap, ["-s", $"unix:{d}/fcgiwrap.sock"], waitForPort: false);
            await server.StartAsync(nginx, ["-c", Path.Combine(d, "nginx.conf"), "-e", Path.Combine(d, "error.log")], waitForPort: true);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Requests the server received (nginx's access log), to check that the daemon's fetches reached it.</summary>
    public string AccessLog => File.Exists(Path.Combine(Directory, "access.log")) ? File.ReadAllText(Path.Combine(Directory, "access.log")) : "";
}

/// <summary>
/// Debian's OpenSSH server (<c>openssh-server</c>) in the foreground with its own config and host key, letting root in
/// with one client key only (its own <c>AuthorizedKeysFile</c>), on 127.0.0.1.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SshGitServer : GitServer
{
    private const string PrivilegeSeparationDirectory = "/run/sshd";
    private bool _createdPrivilegeSeparationDirectory;

    public override string Url => string.Create(CultureInfo.InvariantCulture, $"ssh://root@127.0.0.1:{Port}{BareRepository}");

    /// <summary>The private key the server lets in.</summary>
    public string ClientKey => Path.Combine(Directory, "client_key");

    /// <summary>A key the server does not know.</summary>
    public string OtherKey => Path.Combine(Directory, "other_key");

    /// <summary>A known-hosts file with the server's host key.</summary>
    public string KnownHosts => Path.Combine(Directory, "known_hosts");

    /// <summary>A known-hosts file naming the server with another key.</summary>
    public string WrongKnownHosts => Path.Combine(Directory, "wrong_known_hosts");

    public static async Task<SshGitServer> StartAsync()
    {
        var sshd = Tools.Require("sshd", "openssh-server");
        var keygen = Tools.Require("ssh-keygen", "openssh-client");
        var server = new SshGitServer();
        try
        {
            var d = server.Directory;
            await server.RunAsync("git", "init", "-q", "--bare", "-b", "main", server.BareRepository);
            foreach (var key in new[] { "host_key", "client_key", "other_key", "other_host_key" })
            {
                await server.RunAsync(keygen, "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", Path.Combine(d, key));
            }

            var endpoint = string.Create(CultureInfo.InvariantCulture, $"[127.0.0.1]:{server.Port}");
            await File.WriteAllTextAsync(server.KnownHosts, $"{endpoint} {await File.ReadAllTextAsync(Path.Combine(d, "host_key.pub"))}");
            await File.WriteAllTextAsync(server.WrongKnownHosts, $"{endpoint} {await File.ReadAllTextAsync(Path.Combine(d, "other_host_key.pub"))}");
            await File.WriteAllTextAsync(Path.Combine(d, "authorized_keys"), await File.ReadAllTextAsync(server.ClientKey + ".pub"));
            await File.WriteAllTextAsync(Path.Combine(d, "sshd_config"), $"""
                Port {server.Port}
                ListenAddress 127.0.0.1
                HostKey {d}/host_key
                PidFile {d}/sshd.pid
                AuthorizedKeysFile {d}/authorized_keys
                StrictModes no
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                AllowUsers root
                UsePAM no
                """);

            // sshd insists on its privilege separation directory; made here (and removed afterwards) when missing.
            if (!System.IO.Directory.Exists(PrivilegeSeparationDirectory))
            {
                System.IO.Directory.CreateDirectory(PrivilegeSeparationDirectory);
                server._createdPrivilegeSeparationDirectory = true;
            }

            await server.StartAsync(sshd, ["-D", "-e", "-f", Path.Combine(d, "sshd_config")], waitForPort: true);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    protected override Task CleanUpAsync()
    {
        if (_createdPrivilegeSeparationDirectory)
        {
            try
            {
                System.IO.Directory.Delete(PrivilegeSeparationDirectory);
            }
            catch (IOException)
            {
                // Another sshd made use of it meanwhile; it is empty and harmless.
            }
        }

        return Task.CompletedTask;
    }
}

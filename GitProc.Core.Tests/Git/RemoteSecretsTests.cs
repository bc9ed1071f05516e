using System.Runtime.Versioning;
using GitProc.Git;

namespace GitProc.Core.Tests.Git;

/// <summary>
/// How a remote is classified and shown, and how its secrets are read: the credentials file's two formats, the
/// environment variable, refusal of files others may read, and the ssh command git is given.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class RemoteSecretsTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("gitproc-secrets-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [TestCase("https://git.example.com/units.git", true, true, false)]
    [TestCase("http://git.example.com/units.git", true, true, false)]
    [TestCase("ssh://git@git.example.com:2222/srv/units.git", true, false, true)]
    [TestCase("git@github.com:acme/units.git", true, false, true)]
    [TestCase("github.com:acme/units.git", true, false, true)]
    [TestCase("git://git.example.com/units.git", true, false, false)]
    [TestCase("file:///srv/units.git", false, false, false)]
    [TestCase("/srv/units.git", false, false, false)]
    [TestCase("/srv/odd:name.git", false, false, false)]
    [TestCase("./units:x", false, false, false)]
    public void Remotes_are_classified_as_git_does(string url, bool network, bool http, bool ssh)
    {
        Assert.That(RemoteAddress.IsNetwork(url), Is.EqualTo(network), "network");
        Assert.That(RemoteAddress.IsHttp(url), Is.EqualTo(http), "http");
        Assert.That(RemoteAddress.IsSsh(url), Is.EqualTo(ssh), "ssh");
    }

    [TestCase("https://git.example.com/units.git", "https://git.example.com/units.git", false)]
    [TestCase("https://token@git.example.com/units.git", "https://***@git.example.com/units.git", true)]
    [TestCase("https://user:pa@ss@git.example.com/a@b.git", "https://***@git.example.com/a@b.git", true)]
    [TestCase("ssh://git@git.example.com/units.git", "ssh://git@git.example.com/units.git", false)]
    [TestCase("ssh://git:pw@git.example.com/units.git", "ssh://git:***@git.example.com/units.git", true)]
    [TestCase("git@github.com:acme/units.git", "git@github.com:acme/units.git", false)]
    public void Urls_are_shown_without_their_secrets(string url, string shown, bool secret)
    {
        Assert.That(RemoteAddress.Redact(url), Is.EqualTo(shown));
        Assert.That(RemoteAddress.CarriesSecret(url), Is.EqualTo(secret));
    }

    [TestCase("username=deploy\npassword=s3cret\n", "deploy", "s3cret")]
    [TestCase("# the deploy token\n\npassword=s3cret\r\n", RemoteCredentials.TokenUserName, "s3cret")]
    [TestCase("ghp_abcDEF123==\n", RemoteCredentials.TokenUserName, "ghp_abcDEF123==")]
    [TestCase("\uFEFFusername=ci\npassword=a=b:c\n", "ci", "a=b:c")]
    public void The_credentials_file_holds_user_and_password_lines_or_a_bare_token(string content, string username, string password)
    {
        var file = Write("credentials", content, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var credentials = RemoteCredentials.Load(new GitOptions { CredentialsFile = file }, _ => null)!;

        Assert.That((credentials.Username, credentials.Password), Is.EqualTo((username, password)));
        Assert.That(credentials.ToString(), Does.Not.Contain(password));
        Assert.That(credentials.Scrub($"fatal: {password} rejected"), Is.EqualTo("fatal: *** rejected"));
    }

    [Test]
    public void A_credentials_file_without_a_password_or_token_is_an_error_naming_it()
    {
        var file = Write("credentials", "username=deploy\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var error = Assert.Throws<GitException>(() => RemoteCredentials.Load(new GitOptions { CredentialsFile = file }, _ => null));

        Assert.That(error.Message, Does.StartWith($"The credentials file {file} (Git:CredentialsFile) holds no credentials"));
    }

    [TestCase(UnixFileMode.GroupRead, "0640")]
    [TestCase(UnixFileMode.OtherRead, "0604")]
    [TestCase(UnixFileMode.GroupWrite, "0620")]
    public void A_credentials_file_others_may_access_is_refused_naming_it_and_its_mode(UnixFileMode extra, string octal)
    {
        var file = Write("credentials", "password=s3cret\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var error = Assert.Throws<GitException>(() => RemoteCredentials.Load(new GitOptions { CredentialsFile = file }, _ => null));

        Assert.That(error.Message, Is.EqualTo(
            $"Permissions {octal} for {file} (Git:CredentialsFile) are too open: a file holding a secret must not be accessible by group or others; refused (run: chmod 600 {file})."));
        Assert.That(error.Message, Does.Not.Contain("s3cret"));
    }

    [TestCase("deploy:pa:ss", "deploy", "pa:ss")]
    [TestCase("glpat-token", RemoteCredentials.TokenUserName, "glpat-token")]
    public void The_credentials_variable_holds_user_colon_password_or_a_token(string value, string username, string password)
    {
        var options = new GitOptions { CredentialsEnvironmentVariable = "UNITS_TOKEN" };

        var credentials = RemoteCredentials.Load(options, name => name == "UNITS_TOKEN" ? value : null)!;

        Assert.That((credentials.Username, credentials.Password), Is.EqualTo((username, password)));
        var unset = Assert.Throws<GitException>(() => RemoteCredentials.Load(options, _ => null));
        Assert.That(unset.Message, Does.StartWith("The environment variable UNITS_TOKEN (Git:CredentialsEnvironmentVariable) is not set or empty"));
    }

    [Test]
    public void The_ssh_command_uses_only_the_deploy_key_and_known_hosts_strictly_and_never_prompts()
    {
        var key = Write("deploy key", "key", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var knownHosts = Write("known_hosts", "[h]:22 ssh-ed25519 AAAA", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var command = GitCommandFetcher.SshCommand(new GitOptions { SshKeyFile = key, SshKnownHostsFile = knownHosts, FetchTimeout = TimeSpan.FromSeconds(30) });

        Assert.That(command, Is.EqualTo(
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o ConnectTimeout=30"
            + $" -o IdentitiesOnly=yes -o IdentityAgent=none -i '{key}' -o UserKnownHostsFile='{knownHosts}' -o GlobalKnownHostsFile=/dev/null"));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        Assert.That(
            Assert.Throws<GitException>(() => GitCommandFetcher.SshCommand(new GitOptions { SshKeyFile = key })).Message,
            Does.StartWith($"Permissions 0440 for {key} (Git:SshKeyFile) are too open"));
    }

    [Test]
    public void The_secret_reaches_git_through_its_environment_never_its_command_line()
    {
        var credentials = RemoteCredentials.ParseFile("username=deploy\npassword=s3cret\n")!;

        var info = GitCommandFetcher.StartInfo("/srv/repo", "https://git.example.com/units.git", "main", "refs/remotes/gitproc/main", new GitOptions(), credentials);

        Assert.That(string.Join(' ', info.ArgumentList), Does.Not.Contain("s3cret").And.Contain("credential.helper="));
        Assert.That(info.Environment["GITPROC_GIT_PASSWORD"], Is.EqualTo("s3cret"));
        Assert.That(info.Environment["GIT_TERMINAL_PROMPT"], Is.EqualTo("0"));
    }

    private string Write(string name, string content, UnixFileMode mode)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }
}

using System.Buffers;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;

namespace GitProc.ResourceControl;

/// <summary>Reads and writes cgroup interface files.</summary>
[SupportedOSPlatform("linux")]
internal static class CgroupFiles
{
    // errno values, which .NET reports as the HResult of an IOException on Unix.
    internal const int ErrnoNoSuchProcess = 3;
    internal const int ErrnoBusy = 16;
    internal const int ErrnoNoDevice = 19;
    internal const int ErrnoNotEmpty = 39;

    /// <summary>
    /// Writes <paramref name="value"/> with a single unbuffered write: cgroupfs parses each write(2) as one value,
    /// so a buffered stream that split or merged writes would set something else. The file is created when
    /// missing, which only a directory laid out like cgroupfs (the tests' fake) allows; the kernel refuses it.
    /// </summary>
    public static async Task WriteAsync(string path, string value, string what, string? service, CancellationToken cancellationToken)
    {
        try
        {
            var stream = OpenForWrite(path);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(value), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(path, value, what, service, ex);
        }
    }

    /// <summary>The synchronous <see cref="WriteAsync"/>, for the one-time detection behind a property.</summary>
    public static void Write(string path, string value, string what, string? service)
    {
        try
        {
            using var stream = OpenForWrite(path);
            stream.Write(Encoding.ASCII.GetBytes(value));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(path, value, what, service, ex);
        }
    }

    /// <summary>
    /// Moves process <paramref name="pid"/>, all its threads, into the cgroup whose <c>cgroup.procs</c> file is
    /// <paramref name="procsFile"/>.
    /// </summary>
    /// <exception cref="ResourceControlException">The process does not exist, the move was refused, or the cgroup is gone.</exception>
    public static async Task MoveProcessAsync(string procsFile, int pid, string service, CancellationToken cancellationToken)
    {
        var value = pid.ToString(CultureInfo.InvariantCulture);
        var directory = Path.GetDirectoryName(procsFile)!;
        var failure = $"Cannot add process {value} to the cgroup of service {service}";
        try
        {
            // Checked first because a plain directory (the tests' fake) would accept the file anew.
            if (!Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException();
            }

            var stream = OpenForWrite(procsFile);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(value), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException ex) when (ex.HResult == ErrnoNoSuchProcess)
        {
            throw new ResourceControlException(service, procsFile, $"{failure}: there is no process {value} (it has exited, or the pid is wrong).", ex);
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException || (ex is IOException && ex.HResult == ErrnoNoDevice))
        {
            throw new ResourceControlException(service, directory, $"{failure}: the cgroup was removed ({directory} no longer exists).", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ResourceControlException(
                service,
                procsFile,
                $"{failure}: writing to {procsFile} was refused ({ex.Message.TrimEnd('.')}). Moving a process into a cgroup takes root, "
                + "or write access to this cgroup and to the one the process is in now.",
                ex);
        }
        catch (IOException ex)
        {
            throw new ResourceControlException(service, procsFile, $"{failure}: writing {value} to {procsFile} failed: {ex.Message}", ex);
        }
    }

    /// <summary>The file's text, or <see langword="null"/> when it (or its cgroup) does not exist.</summary>
    /// <exception cref="ResourceControlException">The file exists but cannot be read.</exception>
    /// <remarks>
    /// Read synchronously on purpose: cgroup files are generated from kernel memory, so a read never waits for a
    /// disk, and the asynchronous file path (a thread-pool hop and a buffered stream per file) cost more than the
    /// read itself — it was most of the price of a <c>status</c> request.
    /// </remarks>
    public static Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(path));
    }

    private static string? Read(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

            // The size a cgroup file reports is 0 (or a page), so read until end of file.
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var length = 0;
                int read;
                while ((read = RandomAccess.Read(handle, buffer.AsSpan(length), length)) > 0)
                {
                    length += read;
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }

                return Encoding.ASCII.GetString(buffer, 0, length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException ex) when (ex.HResult == ErrnoNoDevice)
        {
            // A cgroup being removed answers ENODEV for a moment: it is gone as far as callers care.
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Typically EMFILE: the daemon is out of descriptors. Callers skip the reading (ResourceShortage tells
            // them why) instead of letting an I/O error escape a background loop.
            Processes.DescriptorReserve.ReleaseOn(ex.HResult);
            throw new ResourceControlException(null, path, $"Cannot read {path}: {ex.Message}", ex);
        }
    }

    /// <summary>A file holding one number; <see langword="null"/> when missing or <c>max</c>.</summary>
    public static async Task<long?> ReadNumberAsync(string path, CancellationToken cancellationToken)
    {
        var text = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        return long.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>A number from a flat-keyed file (<c>key value</c> lines, as <c>cpu.stat</c> or <c>memory.events</c>).</summary>
    public static async Task<long?> ReadKeyAsync(string path, string key, CancellationToken cancellationToken)
    {
        var text = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        return text is null ? null : ParseKey(text, key);
    }

    internal static long? ParseKey(string text, string key)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0
                && line.AsSpan(0, space).SequenceEqual(key)
                && long.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The pids listed in a <c>cgroup.procs</c> file; empty when the cgroup does not exist.</summary>
    public static async Task<IReadOnlyList<int>> ReadPidsAsync(string path, CancellationToken cancellationToken)
    {
        var text = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var pids = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>The names in a space-separated list file (<c>cgroup.controllers</c>, <c>cgroup.subtree_control</c>), without a leading <c>+</c>.</summary>
    public static HashSet<string> ReadNameList(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path, Encoding.ASCII) : string.Empty;
        return text
            .Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(name => name.TrimStart('+'))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static FileStream OpenForWrite(string path) =>
        new(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);

    private static ResourceControlException WriteFailed(string path, string value, string what, string? service, Exception ex) =>
        new(service, path, $"Cannot set {what}: writing '{value}' to {path} failed: {ex.Message}", ex);
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace GitProc.State;

/// <summary>
/// Writes a JSON file so that a crash at any moment leaves either the old or the new file, never a torn one: a
/// temporary file in the same directory, flushed to disk, renamed over the file, and the directory synced.
/// </summary>
internal static class AtomicFile
{
    /// <summary>What a temporary file's name has between the file's name and the writer's pid.</summary>
    public const string TemporaryInfix = ".tmp-";

    /// <exception cref="StateFileException">The file could not be written; the old one is unchanged.</exception>
    public static async Task WriteJsonAsync<T>(string path, T value, JsonTypeInfo<T> typeInfo, ILogger logger, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporaryPath = Path.Combine(
            directory,
            string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path)}{TemporaryInfix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try
        {
            Directory.CreateDirectory(directory);
            var stream = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, value, typeInfo, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            // Past this point the new file is in place: not cancellable, so the caller is never told it failed.
            File.Move(temporaryPath, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporaryPath);
            throw new StateFileException(path, $"Could not write the state file {path}: {ex.Message} The previous state file is unchanged.", ex);
        }
        catch
        {
            TryDelete(temporaryPath);
            throw;
        }

        if (OperatingSystem.IsLinux())
        {
            var errno = Interop.State.SyncDirectory(directory);
            if (errno != 0)
            {
                // Some file systems refuse fsync on a directory (EINVAL); the rename itself has happened.
                Log.DirectorySyncFailed(logger, directory, errno);
            }
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover is removed at the next load.
        }
    }
}

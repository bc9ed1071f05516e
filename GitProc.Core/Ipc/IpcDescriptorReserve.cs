using Microsoft.Win32.SafeHandles;

namespace GitProc.Ipc;

/// <summary>
/// A few file descriptors (on <c>/dev/null</c>) the IPC server holds while descriptors are plentiful and lets go of
/// when an accept fails for want of one, so the process keeps some room while it is short: the .NET runtime itself
/// needs descriptors now and then (starting a thread takes a pipe), and without any it aborts the process. The server
/// accepts only while it can hold the reserve and one descriptor more, so clients never eat into that room.
/// </summary>
internal sealed class IpcDescriptorReserve : IDisposable
{
    /// <summary>
    /// How many descriptors are kept back: 16, the headroom a service start also proves free (a thread the runtime
    /// starts needs descriptors, and when clients pile up it starts several; 8 once ran out under load and it aborted).
    /// </summary>
    internal const int Size = 16;

    private readonly List<SafeFileHandle> _handles = new(Size + 1);

    /// <summary>Whether the reserve is held: accepting is safe.</summary>
    public bool IsHeld => _handles.Count == Size;

    /// <summary>
    /// Takes the reserve if there is room for it and one descriptor more (the next client's); <see langword="false"/>
    /// (holding nothing) if not.
    /// </summary>
    public bool TryHold()
    {
        if (IsHeld)
        {
            return true;
        }

        try
        {
            while (_handles.Count <= Size)
            {
                _handles.Add(File.OpenHandle("/dev/null"));
            }
        }
        catch (IOException)
        {
            Release();
            return false;
        }

        // The extra one only proved there is room for the next client.
        _handles[^1].Dispose();
        _handles.RemoveAt(_handles.Count - 1);
        return true;
    }

    /// <summary>
    /// After a client took a descriptor: if that was the last free one, gives the reserve back at once, so the process
    /// is never left without room while the server waits for the next client.
    /// </summary>
    /// <returns>Whether the reserve is still held.</returns>
    public bool KeepIfRoomLeft()
    {
        try
        {
            File.OpenHandle("/dev/null").Dispose();
            return true;
        }
        catch (IOException)
        {
            Release();
            return false;
        }
    }

    /// <summary>Gives the reserve back to the process.</summary>
    public void Release()
    {
        foreach (var handle in _handles)
        {
            handle.Dispose();
        }

        _handles.Clear();
    }

    public void Dispose() => Release();
}

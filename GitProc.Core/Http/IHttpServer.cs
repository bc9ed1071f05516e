namespace GitProc.Http;

/// <summary>What the daemon serves over HTTP (metrics, the status page): started by the host, stopped by disposal.</summary>
internal interface IHttpServer : IAsyncDisposable
{
    /// <summary>Starts listening (in the background while the address is not free); does nothing when off.</summary>
    void Start();
}

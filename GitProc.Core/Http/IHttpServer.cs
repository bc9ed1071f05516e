namespace GitProc.Http;

/// <summary>
/// Something GitProc serves over HTTP: the Prometheus metrics at <c>Metrics:Listen</c> and the status page at
/// <c>Web:Listen</c>. <c>services.AddGitProc()</c> registers both (as every
/// <see cref="IHttpServer"/>); each does nothing while its address is unset. Started by the host once the services are
/// recovered, stopped by disposal.
/// </summary>
public interface IHttpServer : IAsyncDisposable
{
    /// <summary>Starts listening (in the background while the address is not free); does nothing when its address is unset.</summary>
    void Start();
}

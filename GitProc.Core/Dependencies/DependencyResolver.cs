namespace GitProc.Dependencies;

/// <summary>The default <see cref="IDependencyResolver"/>: each graph is a new <see cref="DependencyGraph"/>.</summary>
internal sealed class DependencyResolver : IDependencyResolver
{
    public IDependencyGraph Build(IEnumerable<ServiceDependencies> services) => new DependencyGraph(services);
}

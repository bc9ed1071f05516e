using System.Collections.ObjectModel;

namespace GitProc.Dependencies;

/// <summary>
/// The default <see cref="IDependencyGraph"/>: services with their edges resolved once, ordered by an iterative
/// depth-first search (no recursion, so no depth limit) and checked for cycles with Tarjan's strongly connected
/// components, both O(V + E). Nothing changes after construction; the cycles and diagnostics are computed once, on
/// first use.
/// </summary>
internal sealed class DependencyGraph : IDependencyGraph
{
    private const string ServiceSuffix = ".service";

    private static readonly string[] NonServiceSuffixes =
    [
        ".target", ".socket", ".mount", ".path", ".timer", ".slice", ".device", ".scope", ".swap", ".automount", ".busname",
    ];

    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private readonly List<Node> _added = [];
    private readonly Graph _graph;
    private readonly Lazy<ReadOnlyCollection<IReadOnlyList<string>>> _cycles;
    private readonly Lazy<DependencyValidation> _validation;

    public DependencyGraph(IEnumerable<ServiceDependencies> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var service in services)
        {
            ArgumentNullException.ThrowIfNull(service, nameof(services));
            Add(service);
        }

        _graph = BuildGraph();
        Services = _added.Select(n => n.Name).ToList().AsReadOnly();
        _cycles = new Lazy<ReadOnlyCollection<IReadOnlyList<string>>>(() => FindCycles(_graph).AsReadOnly());
        _validation = new Lazy<DependencyValidation>(Validate);
    }

    public IReadOnlyList<string> Services { get; }

    public bool HasCycle => Cycles.Count > 0;

    public IReadOnlyList<IReadOnlyList<string>> Cycles => _cycles.Value;

    public DependencyValidation Validation => _validation.Value;

    private void Add(ServiceDependencies service)
    {
        var name = service.Name ?? throw new ArgumentException("A service has no name.", nameof(service));
        var serviceName = name.Trim();
        if (serviceName.EndsWith(ServiceSuffix, StringComparison.Ordinal))
        {
            serviceName = serviceName[..^ServiceSuffix.Length];
        }

        if (serviceName.Length == 0)
        {
            throw new ArgumentException($"'{name}' is not a service name.", nameof(service));
        }

        var ignored = new List<(string Key, string Unit)>();
        var node = new Node(
            serviceName,
            Normalize(service.After, "After", ignored),
            Normalize(service.Requires, "Requires", ignored),
            Normalize(service.Wants, "Wants", ignored),
            ignored);

        if (_nodes.TryGetValue(serviceName, out var existing))
        {
            // Replacing in place keeps the order, so a name given again does not move in independent orderings.
            node.Index = existing.Index;
            _added[existing.Index] = node;
        }
        else
        {
            node.Index = _added.Count;
            _added.Add(node);
        }

        _nodes[serviceName] = node;
    }

    public IReadOnlyList<string> GetStartOrder(IEnumerable<string>? targets = null)
    {
        var graph = _graph;
        var inSet = SelectSet(graph, targets);

        foreach (var node in _added)
        {
            if (!inSet[node.Index])
            {
                continue;
            }

            foreach (var required in node.Requires)
            {
                if (!_nodes.ContainsKey(required))
                {
                    throw new MissingDependencyException(node.Name, required);
                }
            }
        }

        var n = _added.Count;
        var color = new byte[n]; // 0 unvisited, 1 on the current path, 2 done
        var result = new List<string>(n);
        var stackNode = new int[n];
        var stackEdge = new int[n];

        for (var root = 0; root < n; root++)
        {
            if (!inSet[root] || color[root] != 0)
            {
                continue;
            }

            var top = 0;
            stackNode[0] = root;
            stackEdge[0] = 0;
            color[root] = 1;
            while (top >= 0)
            {
                var u = stackNode[top];
                var edges = graph.Ordering[u];
                if (stackEdge[top] < edges.Length)
                {
                    var v = edges[stackEdge[top]++];
                    if (color[v] == 0)
                    {
                        color[v] = 1;
                        top++;
                        stackNode[top] = v;
                        stackEdge[top] = 0;
                    }
                    else if (color[v] == 1)
                    {
                        throw new DependencyCycleException(CycleWithin(inSet));
                    }
                }
                else
                {
                    color[u] = 2;
                    result.Add(_added[u].Name);
                    top--;
                }
            }
        }

        return result;
    }

    public IReadOnlyList<string> GetStopOrder(IEnumerable<string>? targets = null)
    {
        var order = GetStartOrder(targets).ToList();
        order.Reverse();
        return order;
    }

    public IReadOnlyList<string> GetDependencies(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_nodes.TryGetValue(StripServiceSuffix(name), out var node))
        {
            return [];
        }

        return node.After.Concat(node.Requires).Distinct(StringComparer.Ordinal).Where(_nodes.ContainsKey).ToList();
    }

    public IReadOnlyList<string> GetDependents(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var target = StripServiceSuffix(name);
        return _added.Where(n => n.After.Contains(target) || n.Requires.Contains(target)).Select(n => n.Name).ToList();
    }

    public IReadOnlyList<string> GetRequiredBy(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var target = StripServiceSuffix(name);
        return _added.Where(n => n.Requires.Contains(target)).Select(n => n.Name).ToList();
    }

    private DependencyValidation Validate()
    {
        var errors = new List<DependencyDiagnostic>();
        var warnings = new List<DependencyDiagnostic>();

        foreach (var cycle in Cycles)
        {
            errors.Add(new DependencyDiagnostic(
                DependencyDiagnosticKind.Cycle, cycle[0], null, cycle, DependencyCycleException.Compose(cycle)));
        }

        foreach (var node in _added)
        {
            foreach (var (key, unit) in node.IgnoredUnits)
            {
                warnings.Add(new DependencyDiagnostic(
                    DependencyDiagnosticKind.NonServiceUnit,
                    node.Name,
                    unit,
                    [],
                    $"Service '{node.Name}' has {key}={unit}, which is not a service; GitProc supervises only services, so the entry is ignored.")
                {
                    Key = key,
                });
            }

            foreach (var required in node.Requires.Where(r => !_nodes.ContainsKey(r)))
            {
                errors.Add(new DependencyDiagnostic(
                    DependencyDiagnosticKind.MissingRequiredService,
                    node.Name,
                    required,
                    [],
                    MissingDependencyException.Compose(node.Name, required)));
            }

            foreach (var after in node.After.Where(a => !_nodes.ContainsKey(a)))
            {
                warnings.Add(new DependencyDiagnostic(
                    DependencyDiagnosticKind.MissingOrderedService,
                    node.Name,
                    after,
                    [],
                    $"Service '{node.Name}' has After={after}, but {after}.service is not in the repository; the entry is ignored."));
            }

            foreach (var wanted in node.Wants.Where(w => !_nodes.ContainsKey(w)))
            {
                warnings.Add(new DependencyDiagnostic(
                    DependencyDiagnosticKind.MissingWantedService,
                    node.Name,
                    wanted,
                    [],
                    $"Service '{node.Name}' has Wants={wanted}, but {wanted}.service is not in the repository; the entry is ignored."));
            }
        }

        return new DependencyValidation(errors, warnings);
    }

    private static string StripServiceSuffix(string name)
    {
        var trimmed = name.Trim();
        return trimmed.EndsWith(ServiceSuffix, StringComparison.Ordinal) ? trimmed[..^ServiceSuffix.Length] : trimmed;
    }

    private static List<string> Normalize(IEnumerable<string>? names, string key, List<(string Key, string Unit)> ignored)
    {
        var result = new List<string>();
        if (names is null)
        {
            return result;
        }

        foreach (var raw in names)
        {
            var name = raw?.Trim() ?? string.Empty;
            if (name.EndsWith(ServiceSuffix, StringComparison.Ordinal))
            {
                // Checked first, so "x.target.service" is the service "x.target", not a target.
                name = name[..^ServiceSuffix.Length];
            }
            else if (Array.Exists(NonServiceSuffixes, s => name.EndsWith(s, StringComparison.Ordinal)))
            {
                ignored.Add((key, name));
                continue;
            }

            if (name.Length > 0 && !result.Contains(name, StringComparer.Ordinal))
            {
                result.Add(name);
            }
        }

        return result;
    }

    private Graph BuildGraph()
    {
        var n = _added.Count;
        var ordering = new int[n][];
        var wants = new int[n][];
        var seen = new HashSet<int>();
        for (var i = 0; i < n; i++)
        {
            var node = _added[i];
            seen.Clear();
            var edges = new List<int>(node.After.Count + node.Requires.Count);
            foreach (var name in node.After.Concat(node.Requires))
            {
                if (_nodes.TryGetValue(name, out var dependency) && seen.Add(dependency.Index))
                {
                    edges.Add(dependency.Index);
                }
            }

            ordering[i] = [.. edges];
            wants[i] = node.Wants.Where(_nodes.ContainsKey).Select(w => _nodes[w].Index).ToArray();
        }

        return new Graph(ordering, wants);
    }

    private bool[] SelectSet(Graph graph, IEnumerable<string>? targets)
    {
        var inSet = new bool[_added.Count];
        if (targets is null)
        {
            Array.Fill(inSet, true);
            return inSet;
        }

        var work = new Stack<int>();
        var unknown = new List<string>();
        foreach (var target in targets)
        {
            ArgumentNullException.ThrowIfNull(target, nameof(targets));
            if (_nodes.TryGetValue(StripServiceSuffix(target), out var node))
            {
                if (!inSet[node.Index])
                {
                    inSet[node.Index] = true;
                    work.Push(node.Index);
                }
            }
            else
            {
                unknown.Add(target);
            }
        }

        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"Unknown service(s): {string.Join(", ", unknown)}. Only services the graph was built with can be ordered.",
                nameof(targets));
        }

        // Every kind of dependency pulls its service in; only the ordering edges order.
        while (work.Count > 0)
        {
            var u = work.Pop();
            foreach (var v in graph.Ordering[u].Concat(graph.Wants[u]))
            {
                if (!inSet[v])
                {
                    inSet[v] = true;
                    work.Push(v);
                }
            }
        }

        return inSet;
    }

    private List<string> CycleWithin(bool[] inSet)
    {
        // The set is closed under ordering edges, so a cycle met in it lies wholly in it; reporting the same cycle
        // as Cycles keeps the message stable whatever was asked for.
        foreach (var cycle in Cycles)
        {
            if (inSet[_nodes[cycle[0]].Index])
            {
                return [.. cycle];
            }
        }

        throw new InvalidOperationException("A cycle was detected but could not be located.");
    }

    private List<IReadOnlyList<string>> FindCycles(Graph graph)
    {
        var cycles = new List<IReadOnlyList<string>>();
        foreach (var component in StronglyConnectedComponents(graph.Ordering))
        {
            var start = component.Min();
            if (component.Count == 1 && !graph.Ordering[start].Contains(start))
            {
                continue;
            }

            cycles.Add(ShortestCycleThrough(graph.Ordering, start, [.. component]));
        }

        cycles.Sort((a, b) => _nodes[a[0]].Index.CompareTo(_nodes[b[0]].Index));
        return cycles;
    }

    private List<string> ShortestCycleThrough(int[][] ordering, int start, HashSet<int> component)
    {
        // Breadth-first within the component: the first edge back to the start closes a shortest cycle.
        var parent = new Dictionary<int, int> { [start] = -1 };
        var queue = new Queue<int>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            var u = queue.Dequeue();
            foreach (var v in ordering[u])
            {
                if (v == start)
                {
                    var path = new List<string>();
                    for (var w = u; w != -1; w = parent[w])
                    {
                        path.Add(_added[w].Name);
                    }

                    path.Reverse();
                    return path;
                }

                if (component.Contains(v) && parent.TryAdd(v, u))
                {
                    queue.Enqueue(v);
                }
            }
        }

        throw new InvalidOperationException("A strongly connected component has no cycle through its first service.");
    }

    private static List<List<int>> StronglyConnectedComponents(int[][] edges)
    {
        // Tarjan's algorithm with an explicit call stack.
        var n = edges.Length;
        var index = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        Array.Fill(index, -1);
        var componentStack = new Stack<int>();
        var callNode = new int[n];
        var callEdge = new int[n];
        var counter = 0;
        var components = new List<List<int>>();

        for (var root = 0; root < n; root++)
        {
            if (index[root] != -1)
            {
                continue;
            }

            var top = 0;
            callNode[0] = root;
            callEdge[0] = 0;
            index[root] = low[root] = counter++;
            componentStack.Push(root);
            onStack[root] = true;

            while (top >= 0)
            {
                var v = callNode[top];
                if (callEdge[top] < edges[v].Length)
                {
                    var w = edges[v][callEdge[top]++];
                    if (index[w] == -1)
                    {
                        index[w] = low[w] = counter++;
                        componentStack.Push(w);
                        onStack[w] = true;
                        top++;
                        callNode[top] = w;
                        callEdge[top] = 0;
                    }
                    else if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }

                    continue;
                }

                if (low[v] == index[v])
                {
                    var component = new List<int>();
                    int w;
                    do
                    {
                        w = componentStack.Pop();
                        onStack[w] = false;
                        component.Add(w);
                    }
                    while (w != v);

                    components.Add(component);
                }

                top--;
                if (top >= 0)
                {
                    var parent = callNode[top];
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }

        return components;
    }

    private sealed class Node(string name, List<string> after, List<string> requires, List<string> wants, List<(string Key, string Unit)> ignoredUnits)
    {
        public string Name { get; } = name;

        public int Index { get; set; }

        public List<string> After { get; } = after;

        public List<string> Requires { get; } = requires;

        public List<string> Wants { get; } = wants;

        public List<(string Key, string Unit)> IgnoredUnits { get; } = ignoredUnits;
    }

    private sealed record Graph(int[][] Ordering, int[][] Wants);
}

using GitProc.TestChild;

// Each subcommand lives in its own class; keep this a plain switch so others can add theirs.
return args.Length == 0 ? Usage() : args[0] switch
{
    "write-state" => await WriteStateCommand.RunAsync(args[1..]),
    "hold-lock" when OperatingSystem.IsLinux() => HoldLockCommand.Run(args[1..]),
    "without-descriptors" when OperatingSystem.IsLinux() => await WithoutDescriptorsCommand.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: GitProc.TestChild write-state <path> <count> | hold-lock <path> | without-descriptors <dir>");
    return 2;
}

namespace GitProc.Logs;

/// <summary>
/// Where a follower starts: a byte offset in one generation of a service's log file (the generation changes
/// on each rotation). Published whole after every flush, so it is read without the file's lock and always
/// falls on a line boundary.
/// </summary>
/// <param name="Generation">The file's rotation count.</param>
/// <param name="Offset">The length of the file in that generation after the last complete write.</param>
internal sealed record FollowPoint(int Generation, long Offset);

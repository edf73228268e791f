using Microsoft.Extensions.Logging;

namespace SocialSync.GraphApiEmulator;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Graph API emulator listening on {Addresses}")]
    public static partial void Listening(ILogger logger, string addresses);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Fault {FaultId} added (times {Times})")]
    public static partial void FaultAdded(ILogger logger, string faultId, int times);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Faults cleared")]
    public static partial void FaultsCleared(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Emulator state reset")]
    public static partial void StateReset(ILogger logger);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Virtual clock advanced by {Seconds} s to {Now}")]
    public static partial void ClockAdvanced(ILogger logger, double seconds, DateTimeOffset now);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Dropped connection ({Mode}) for {Method} {Path}")]
    public static partial void Dropped(ILogger logger, string mode, string method, string path);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Account {Account} configured")]
    public static partial void AccountConfigured(ILogger logger, string account);
}

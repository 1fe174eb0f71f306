using StackExchange.Redis;

namespace TouchpointTracker.Messaging;

/// <summary>How every service connects to Redis.</summary>
public static class RedisConnection
{
    /// <summary>
    /// The connection options of <c>Redis:Configuration</c>: start while Redis is down (the service reports
    /// not ready), and fail a command at once while disconnected instead of queueing it out of sight (the
    /// collector answers 503, the processor retries its batch); reconnection is automatic.
    /// </summary>
    public static ConfigurationOptions Options(RedisOptions options, string clientName)
    {
        var config = ConfigurationOptions.Parse(options.Configuration);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ClientName ??= clientName;
        return config;
    }

    public static ConnectionMultiplexer Connect(RedisOptions options, string clientName) =>
        ConnectionMultiplexer.Connect(Options(options, clientName));

    public static Task<ConnectionMultiplexer> ConnectAsync(RedisOptions options, string clientName) =>
        ConnectionMultiplexer.ConnectAsync(Options(options, clientName));
}

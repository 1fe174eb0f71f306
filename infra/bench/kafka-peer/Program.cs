using TouchpointTracker.Testing;

// Usage: KafkaPeer <topic> <partitions> [brokers]. Prints the bootstrap servers on one line, then keeps the
// cluster up until stdin closes or the process is told to stop.
var topic = args.Length > 0 ? args[0] : "tt.touchpoints";
var partitions = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 6;
var brokers = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;

using var cluster = MockKafkaCluster.Start(brokers);
cluster.CreateTopic(topic, partitions, replicationFactor: 1);
Console.WriteLine(cluster.BootstrapServers);
Console.Out.Flush();

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

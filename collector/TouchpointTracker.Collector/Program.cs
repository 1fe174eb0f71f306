using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCollector();

var app = builder.Build();
app.MapCollector();
app.Run();

/// <summary>Entry point, visible to integration tests.</summary>
public partial class Program;

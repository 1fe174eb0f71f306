using TouchpointTracker.Processor.Hosting;
using TouchpointTracker.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddProcessor();

var app = builder.Build();
app.MapProcessor();
app.Run();

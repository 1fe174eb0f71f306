using System.Text.Json;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/collect", async (HttpRequest request) =>
{
    using var doc = await JsonDocument.ParseAsync(request.Body);
    return doc.RootElement.ValueKind == JsonValueKind.Object ? Results.NoContent() : Results.BadRequest();
});
app.Run();

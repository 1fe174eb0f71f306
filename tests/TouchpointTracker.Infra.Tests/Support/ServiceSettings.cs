using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using CollectorConfig = TouchpointTracker.Collector.Configuration;
using ProcessorConfig = TouchpointTracker.Processor.Configuration;
using Defaults = TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Infra.Tests.Support;

public enum Service
{
    Collector,
    Processor,
}

/// <summary>An options class: the configuration section it binds (its <c>Section</c> constant) and its type.</summary>
public sealed record OptionsClass(string Section, Type Type);

/// <summary>
/// The settings a deployment gives a service (environment variables <c>Section__Key</c>), checked the way
/// the service reads them: layered over its appsettings.json, bound to its options classes with unknown
/// keys refused, then validated (data annotations and <see cref="IValidatableObject"/>) as at start-up.
/// </summary>
public sealed class ServiceSettings
{
    private ServiceSettings(Service service, IConfiguration configuration, IReadOnlyList<string> problems)
    {
        Service = service;
        Configuration = configuration;
        Problems = problems;
    }

    public Service Service { get; }
    public IConfiguration Configuration { get; }

    /// <summary>Every setting that does not map to an options property, does not convert, or fails validation.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The assemblies whose options classes configure a service.</summary>
    public static IReadOnlyList<Assembly> AssembliesOf(Service service) => service switch
    {
        Service.Collector => [typeof(CollectorConfig.CollectorOptions).Assembly, typeof(Defaults.ShutdownOptions).Assembly, typeof(Messaging.KafkaOptions).Assembly, typeof(Journeys.JourneyOptions).Assembly],
        _ => [typeof(ProcessorConfig.ProcessorOptions).Assembly, typeof(Defaults.ShutdownOptions).Assembly, typeof(Messaging.KafkaOptions).Assembly, typeof(Journeys.JourneyOptions).Assembly],
    };

    /// <summary>The options classes of a service: every class with a public parameterless constructor and a <c>const string Section</c>.</summary>
    public static IReadOnlyList<OptionsClass> OptionsOf(Service service) =>
        AssembliesOf(service)
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .Select(x => new OptionsClass((string)x.Field!.GetRawConstantValue()!, x.Type))
            .OrderBy(o => o.Section, StringComparer.Ordinal)
            .ToList();

    /// <summary>The service's appsettings.json, relative to the repository.</summary>
    public static string AppSettingsOf(Service service) => service == Service.Collector ? "collector/TouchpointTracker.Collector/appsettings.json" : "processor/TouchpointTracker.Processor/appsettings.json";

    public static ServiceSettings Check(Service service, IReadOnlyDictionary<string, string> environment, string where)
    {
        var problems = new List<string>();
        var options = OptionsOf(service);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in environment)
        {
            if (!name.Contains("__", StringComparison.Ordinal))
            {
                if (!name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) && !name.StartsWith("DOTNET_", StringComparison.Ordinal))
                {
                    problems.Add($"{where}: {name} is neither a setting (Section__Key) nor an ASPNETCORE_/DOTNET_ variable");
                }
                continue;
            }
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            settings[key] = value;
            var section = key[..key.IndexOf(':', StringComparison.Ordinal)];
            if (section.Equals("Logging", StringComparison.OrdinalIgnoreCase))
            {
                // Read by ServiceDefaults (Logging:Json) and by the logging framework (Logging:LogLevel:<category>).
                if (!key.Equals("Logging:Json", StringComparison.OrdinalIgnoreCase) && !key.StartsWith("Logging:LogLevel:", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{where}: {name} is not a logging setting (Logging__Json, Logging__LogLevel__<category>)");
                }
                continue;
            }
            if (!options.Any(o => o.Section.Equals(section, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{where}: {name}: the {service} has no options class for section '{section}' (it has {string.Join(", ", options.Select(o => o.Section).Distinct())})");
            }
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Repo.PathOf(AppSettingsOf(service)), optional: false)
            .AddInMemoryCollection(settings)
            .Build();
        foreach (var o in options)
        {
            var instance = Activator.CreateInstance(o.Type)!;
            try
            {
                configuration.GetSection(o.Section).Bind(instance, b => b.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add($"{where}: section {o.Section} does not bind to {o.Type.FullName}: {ex.Message}");
                continue;
            }
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true))
            {
                problems.AddRange(results.Select(r => $"{where}: {o.Type.FullName}: {r.ErrorMessage}"));
            }
        }
        return new ServiceSettings(service, configuration, problems);
    }

    /// <summary>The options as the service would see them (binding only; <see cref="Problems"/> has the validation).</summary>
    public T Bind<T>()
        where T : new()
    {
        var section = (string)typeof(T).GetField("Section", BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;
        var value = new T();
        Configuration.GetSection(section).Bind(value);
        return value;
    }
}

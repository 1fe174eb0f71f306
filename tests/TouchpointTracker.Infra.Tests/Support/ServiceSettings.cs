using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using AnalyticsOptions = TouchpointTracker.Analytics.AnalyticsOptions;
using AnalyticsSinkOptions = TouchpointTracker.Processor.Analytics.AnalyticsSinkOptions;
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
    private ServiceSettings(Service service, string? role, IConfiguration configuration, IReadOnlyList<string> problems)
    {
        Service = service;
        Role = role;
        Configuration = configuration;
        Problems = problems;
    }

    public Service Service { get; }

    /// <summary>The processor's Processor:Role (staging unless set); null for the collector.</summary>
    public string? Role { get; }

    public bool IsAnalytics => Role == ProcessorConfig.ProcessorOptions.AnalyticsRole;
    public bool IsWebhooks => Role == ProcessorConfig.ProcessorOptions.WebhooksRole;
    public bool IsStaging => Role == ProcessorConfig.ProcessorOptions.StagingRole;
    public IConfiguration Configuration { get; }

    /// <summary>Every setting that does not map to an options property, does not convert, or fails validation.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The assemblies whose options classes configure a service (the collector's embedded mode and the
    /// processor's analytics role both read the Analytics section).</summary>
    public static IReadOnlyList<Assembly> AssembliesOf(Service service) => service switch
    {
        Service.Collector => [typeof(CollectorConfig.CollectorOptions).Assembly, typeof(Defaults.ShutdownOptions).Assembly, typeof(Messaging.KafkaOptions).Assembly, typeof(Journeys.JourneyOptions).Assembly, typeof(AnalyticsOptions).Assembly],
        _ => [typeof(ProcessorConfig.ProcessorOptions).Assembly, typeof(Defaults.ShutdownOptions).Assembly, typeof(Messaging.KafkaOptions).Assembly, typeof(Journeys.JourneyOptions).Assembly, typeof(AnalyticsOptions).Assembly],
    };

    /// <summary>
    /// The options classes only one role of the processor binds (ProcessorServiceExtensions.AddProcessor): the
    /// staging role reads Redis, Journeys and Identity, the analytics role AnalyticsSink, Analytics and Identity, the
    /// webhooks role Webhooks. A setting of a section the role does not bind is refused (it would be silently ignored),
    /// and only the role's own options are validated.
    /// </summary>
    public static IReadOnlyDictionary<string, Type[]> ProcessorRoleOnly { get; } = new Dictionary<string, Type[]>(StringComparer.Ordinal)
    {
        [ProcessorConfig.ProcessorOptions.StagingRole] = [typeof(Messaging.RedisOptions), typeof(Journeys.JourneyOptions), typeof(Journeys.Identity.IdentityOptions)],
        [ProcessorConfig.ProcessorOptions.AnalyticsRole] = [typeof(AnalyticsSinkOptions), typeof(AnalyticsOptions), typeof(Journeys.Identity.IdentityOptions)],
        [ProcessorConfig.ProcessorOptions.WebhooksRole] = [typeof(TouchpointTracker.Processor.Webhooks.WebhookOptions)],
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

    /// <summary>The options classes a processor in <paramref name="role"/> binds (every other service: all of them).</summary>
    public static IReadOnlyList<OptionsClass> OptionsOf(Service service, string? role)
    {
        var all = OptionsOf(service);
        if (service != Service.Processor || role is null || !ProcessorRoleOnly.ContainsKey(role))
        {
            return all;
        }
        var otherRoles = ProcessorRoleOnly.Where(r => r.Key != role).SelectMany(r => r.Value).Except(ProcessorRoleOnly[role]).ToHashSet();
        return all.Where(o => !otherRoles.Contains(o.Type)).ToList();
    }

    /// <summary>The <see cref="IValidateOptions{TOptions}"/> validators with a parameterless constructor (e.g. AnalyticsOptionsValidator) that the service registers for an options type.</summary>
    private static IEnumerable<Func<object, IEnumerable<string>>> ValidatorsOf(Service service, Type optionsType) =>
        AssembliesOf(service)
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null
                     && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidateOptions<>) && i.GetGenericArguments()[0] == optionsType))
            .Select(t => (Func<object, IEnumerable<string>>)(instance =>
            {
                var validator = Activator.CreateInstance(t)!;
                var result = (ValidateOptionsResult)typeof(IValidateOptions<>).MakeGenericType(optionsType).GetMethod(nameof(IValidateOptions<object>.Validate))!.Invoke(validator, [null, instance])!;
                return result.Failed ? result.Failures ?? [result.FailureMessage] : [];
            }));

    /// <summary>The service's appsettings.json, relative to the repository.</summary>
    public static string AppSettingsOf(Service service) => service == Service.Collector ? "collector/TouchpointTracker.Collector/appsettings.json" : "processor/TouchpointTracker.Processor/appsettings.json";

    public static ServiceSettings Check(Service service, IReadOnlyDictionary<string, string> environment, string where)
    {
        var problems = new List<string>();
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in environment.Where(e => e.Key.Contains("__", StringComparison.Ordinal)))
        {
            settings[name.Replace("__", ":", StringComparison.Ordinal)] = value;
        }
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Repo.PathOf(AppSettingsOf(service)), optional: false)
            .AddInMemoryCollection(settings)
            .Build();
        var role = service == Service.Processor ? configuration[$"{ProcessorConfig.ProcessorOptions.Section}:Role"] ?? ProcessorConfig.ProcessorOptions.StagingRole : null;
        var options = OptionsOf(service, role);
        var who = role is null ? service.ToString() : $"{service} ({role} role)";

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
                problems.Add($"{where}: {name}: the {who} has no options class for section '{section}' (it has {string.Join(", ", options.Select(o => o.Section).Distinct())})");
            }
        }

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
            foreach (var validate in ValidatorsOf(service, o.Type))
            {
                problems.AddRange(validate(instance).Select(m => $"{where}: {o.Type.FullName}: {m}"));
            }
        }
        return new ServiceSettings(service, role, configuration, problems);
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

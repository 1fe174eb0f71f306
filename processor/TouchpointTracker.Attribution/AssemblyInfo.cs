using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("TouchpointTracker.Attribution.Tests")]

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>A number given to a visitor: the decision, and how many of the pool's numbers are actively held after it.</summary>
public readonly record struct NumberGiven(string Number, AssignmentKind Kind, int InUse);

/// <summary>
/// Where assignments live: the current hold of each number, each visitor's number, and the log of ended holds
/// (number, visitor, session, from, last activity) kept for the pool's match window, bounded. Each assignment
/// is atomic. In process for the embedded mode (persisted under the data folder), in Redis for the distributed one.
/// </summary>
public interface INumberStore
{
    /// <summary>Gives <paramref name="visitor"/> a number of <paramref name="pool"/> (see <see cref="AssignmentPolicy.Decide"/>).</summary>
    /// <exception cref="NumberStoreUnavailableException">The store cannot be reached now.</exception>
    Task<NumberGiven> AssignAsync(NumberPool pool, string visitor, string session, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The hold a call to <paramref name="number"/> at <paramref name="at"/> belongs to, or null (see <see cref="AssignmentPolicy.Match"/>).</summary>
    /// <exception cref="NumberStoreUnavailableException">The store cannot be reached now.</exception>
    Task<Hold?> FindHolderAsync(NumberPool pool, string number, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Numbers actively held now, when the store can say without I/O (the embedded store); else null.</summary>
    int? InUse(NumberPool pool, DateTimeOffset now);
}

/// <summary>The store cannot be reached (Redis down or too slow): the caller answers 503.</summary>
public sealed class NumberStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

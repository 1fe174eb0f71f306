using TouchpointTracker.Processor.State;

namespace TouchpointTracker.Processor.Staging;

/// <summary>One owned input partition: the state claim, and how far each output partition already got.</summary>
internal sealed record OwnedPartition(PartitionClaim Claim, long StagedTail, long TransitionsTail, long ConversionsTail = -1);

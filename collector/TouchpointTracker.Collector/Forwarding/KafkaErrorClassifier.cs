using Confluent.Kafka;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>What the forwarder does about a failed produce.</summary>
public enum DeliveryErrorClass
{
    /// <summary>Kafka is unreachable, slow or rebalancing: keep the entry pending, back off, produce it again.</summary>
    Retriable,
    /// <summary>This message can never be accepted (too large, invalid): dead-letter it, let the rest flow.</summary>
    PermanentForMessage,
    /// <summary>
    /// The producer or its configuration is broken (fatal idempotence error, authorization, bad settings):
    /// readiness goes red, the producer is rebuilt, the entry stays pending and is retried at the slowest pace.
    /// Nothing is acknowledged or dropped: an operator has to act.
    /// </summary>
    Fatal,
}

/// <summary>Classifies librdkafka errors for the forwarder loop. Pure.</summary>
public static class KafkaErrorClassifier
{
    public static DeliveryErrorClass Classify(ErrorCode code, bool isFatal)
    {
        if (isFatal)
        {
            return DeliveryErrorClass.Fatal;
        }
        return code switch
        {
            ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsgSize or ErrorCode.InvalidMsg or ErrorCode.RecordListTooLarge
                or ErrorCode.InvalidRecord or ErrorCode.Local_BadMsg or ErrorCode.Local_KeySerialization
                or ErrorCode.Local_ValueSerialization or ErrorCode.InvalidTimestamp or ErrorCode.UnsupportedForMessageFormat
                => DeliveryErrorClass.PermanentForMessage,

            ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.TransactionalIdAuthorizationFailed
                or ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed or ErrorCode.UnsupportedSaslMechanism
                or ErrorCode.IllegalSaslState or ErrorCode.UnsupportedCompressionType or ErrorCode.Local_Fatal
                or ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch or ErrorCode.OutOfOrderSequenceNumber
                or ErrorCode.Local_InvalidArg or ErrorCode.Local_NotConfigured or ErrorCode.Local_Ssl
                or ErrorCode.InvalidRequiredAcks or ErrorCode.InvalidConfig or ErrorCode.Local_UnknownTopic
                or ErrorCode.Local_Destroy
                => DeliveryErrorClass.Fatal,

            // Timeouts, transport errors, leader changes, not enough replicas, queue full, purges,
            // unknown topic while metadata propagates, throttling: all pass with time.
            _ => DeliveryErrorClass.Retriable,
        };
    }

    public static DeliveryErrorClass Classify(Error error) => Classify(error.Code, error.IsFatal);
}

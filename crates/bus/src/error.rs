/// Failures of the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached or did not acknowledge in time; the caller may retry.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    #[error("event bus error: {0}")]
    Other(String),
}

impl From<rdkafka::error::KafkaError> for BusError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        use rdkafka::error::KafkaError;
        match e {
            KafkaError::MessageProduction(_)
            | KafkaError::MetadataFetch(_)
            | KafkaError::MessageConsumption(_) => BusError::Unavailable(e.to_string()),
            other => BusError::Other(other.to_string()),
        }
    }
}

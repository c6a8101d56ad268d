//! The stages of a run, told to every connection through a `watch` channel.

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Connecting and subscribing.
    Setup,
    /// Publishers publish; `start_ns` on [`crate::clock`] is when the schedule begins.
    Publish { start_ns: u64 },
    /// Publishing has stopped; deliveries on their way still count.
    Drain,
    /// Close and report.
    Stop,
}

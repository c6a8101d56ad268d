//! The history writers: consumers of one group shared by every pod, so each record is written once.

pub(crate) mod edits;
pub(crate) mod sequencer;

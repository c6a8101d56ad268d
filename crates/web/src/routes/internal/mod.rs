//! Web's internal API, for message pods and presence (the internal token, checked by middleware).

pub(crate) mod rooms;

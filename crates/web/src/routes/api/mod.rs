//! The REST API under `/api/v1`, for holders of an access token (`crate::extract::ApiCaller`).

pub(crate) mod auth;
pub(crate) mod calls;
pub(crate) mod friends;
pub(crate) mod me;
pub(crate) mod push;
pub(crate) mod rooms;
pub(crate) mod search;

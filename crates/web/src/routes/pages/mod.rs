//! Pages and their form posts, for a browser with a session (`crate::extract::SignedIn`,
//! `crate::extract::CsrfForm`).

pub(crate) mod accounts;
pub(crate) mod avatars;
pub(crate) mod friends;
pub(crate) mod manage;
pub(crate) mod room;
pub(crate) mod rooms;
pub(crate) mod search;
pub(crate) mod settings;
pub(crate) mod static_files;

//! Notifications for members who are away: Web Push (RFC 8030), encrypted for the browser (RFC
//! 8291) and signed with the server's VAPID key (RFC 8292), built by `web-push-native` (RustCrypto,
//! no OpenSSL) and sent with reqwest.
//!
//! # Design
//! A notifier in web reads the sequenced topic in a consumer group of its own (`natter-notifier`,
//! shared by web pods, so each message is considered once, after it is stored; publishing never
//! waits for it). For each member of the room other than the sender it asks:
//! - does their choice for the room (`room_members.notify`: all, mentions and direct messages by
//!   default, nothing) want this message;
//! - are they away: presence says offline or away (idle), so nobody gets a push for a room they are
//!   looking at;
//! - did they get one for this room within the collapse window (a minute): then the message is
//!   held back, and when the window ends one notification goes for what was held (the newest, "+N
//!   more"), unless a new message's notification already counted them.
//!
//! A [`Channel`] delivers a [`Notification`] to a member; Web Push is the one there is, and an email
//! digest would be another. Subscriptions the push service answers 404 or 410 for are deleted.

pub(crate) mod notifier;
pub(crate) mod sender;

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use natter_runtime::env::{Env, EnvError};
use serde::{Deserialize, Serialize};

/// What a member is told about a room while away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Notification {
    pub(crate) room: i64,
    /// The room's name as the member sees it (the sender's name for a direct chat).
    pub(crate) title: String,
    /// "sender: text", cut to [`BODY_CHARS`].
    pub(crate) body: String,
    /// Messages this one stands for (more than 1 when earlier ones were collapsed into it).
    pub(crate) count: u64,
    /// Where a click leads: the room at the message.
    pub(crate) url: String,
    /// One notification per room on the device: a newer one replaces it.
    pub(crate) tag: String,
}

/// Longest body, in characters.
pub(crate) const BODY_CHARS: usize = 120;

/// A way to reach a member who is away.
#[async_trait]
pub(crate) trait Channel: Send + Sync {
    /// Delivers `notification` to every device of `member` the channel knows.
    async fn deliver(&self, member: i64, notification: &Notification);
}

/// Web Push settings.
pub struct PushSettings {
    /// The VAPID private key; never printed.
    key: [u8; 32],
    /// The contact push services may use (`mailto:` or `https:`), sent as the VAPID `sub`.
    pub subject: String,
    /// Whether subscriptions may name `http:` endpoints (a local push service for tests and
    /// development; browsers' push services are all `https:`).
    pub allow_http: bool,
    /// At most one notification per member and room in this long.
    pub collapse: Duration,
}

impl std::fmt::Debug for PushSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSettings")
            .field("subject", &self.subject)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl PushSettings {
    pub(crate) fn from_env(env: &Env, key: [u8; 32]) -> Result<Self, EnvError> {
        Ok(Self {
            key,
            subject: env.or("NATTER_VAPID_SUBJECT", "mailto:admin@localhost"),
            allow_http: env.parse_or("NATTER_PUSH_ALLOW_HTTP", false)?,
            collapse: Duration::from_secs(env.parse_or("NATTER_PUSH_COLLAPSE_SECS", 60u64)?),
        })
    }

    /// The public key browsers subscribe with (`applicationServerKey`): the uncompressed point,
    /// base64url.
    pub fn public_key(&self) -> String {
        let secret = p256::SecretKey::from_slice(&self.key).expect("checked when configured");
        URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes())
    }

    pub(crate) fn key(&self) -> &[u8; 32] {
        &self.key
    }
}

/// A fresh VAPID private key.
pub(crate) fn random_key() -> [u8; 32] {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("OS randomness");
        if check_key(&bytes).is_ok() {
            return bytes;
        }
    }
}

/// Whether `bytes` is a P-256 private key.
pub(crate) fn check_key(bytes: &[u8; 32]) -> Result<(), String> {
    p256::SecretKey::from_slice(bytes).map(|_| ()).map_err(|_| "not a P-256 private key".to_owned())
}

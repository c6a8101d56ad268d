//! The services a message pod asks: web (room access, token keys, read positions, file
//! attachments) and presence (which connections are open where).

pub(crate) mod access;
pub(crate) mod access_cache;
pub(crate) mod keys;
pub(crate) mod presence_reporter;

use std::sync::Arc;

use natter_http::InternalClient;

use self::access::RoomAccessClient;
use self::access_cache::AccessCache;
use self::keys::Keys;
use self::presence_reporter::PresenceReporter;
use crate::settings::MessageSettings;

/// The pod's clients of web and presence.
pub(crate) struct Upstream {
    /// Web's internal API (read positions, file attachments).
    pub(crate) web: Arc<InternalClient>,
    /// Web's room-access answers, cached briefly.
    pub(crate) access: Arc<AccessCache<RoomAccessClient>>,
    /// Web's token keys.
    pub(crate) keys: Keys,
    pub(crate) presence: PresenceReporter,
    /// Presence's internal API (who is in a room's call).
    pub(crate) presence_api: InternalClient,
}

impl Upstream {
    /// Creates the clients, loads web's token keys (a failure is logged and retried on the first
    /// connection); the presence heartbeat starts with the pod's workers.
    pub(crate) async fn connect(settings: &MessageSettings) -> Self {
        let web = InternalClient::new("web", &settings.web_internal_url, settings.internal_token.clone());
        let access =
            Arc::new(AccessCache::new(RoomAccessClient::new(web.clone()), settings.access_cache_ttl));
        let keys = Keys::new(&settings.web_internal_url);
        keys.prefetch().await;
        let presence =
            InternalClient::new("presence", &settings.presence_url, settings.internal_token.clone());
        let presence_api = presence.clone();
        let presence = PresenceReporter::new(presence, settings.pod_id.clone(), settings.presence_heartbeat);
        Self { web: Arc::new(web), access, keys, presence, presence_api }
    }
}

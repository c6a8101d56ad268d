//! The Web Push channel: one encrypted, VAPID-signed request per subscription of the member.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use natter_db::{Db, PushSubscription, push};
use web_push_native::jwt_simple::algorithms::ES256KeyPair;
use web_push_native::{Auth, WebPushBuilder};

use super::{Channel, Notification, PushSettings};

/// How long a push service may hold a notification for an offline device.
const TIME_TO_LIVE: Duration = Duration::from_secs(6 * 60 * 60);
/// How long a push service may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct WebPush {
    db: Db,
    key: ES256KeyPair,
    subject: String,
    http: reqwest::Client,
}

/// What the push service said.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// 404 or 410: the subscription is gone for good.
    Gone,
    Refused(u16),
}

impl WebPush {
    pub(crate) fn new(db: Db, settings: &PushSettings) -> Self {
        Self {
            db,
            key: ES256KeyPair::from_bytes(settings.key()).expect("checked when configured"),
            subject: settings.subject.clone(),
            http: reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("an HTTP client"),
        }
    }

    async fn send(&self, subscription: &PushSubscription, payload: &[u8]) -> Result<Outcome, String> {
        let endpoint = subscription.endpoint.parse().map_err(|e| format!("endpoint: {e}"))?;
        let p256dh =
            URL_SAFE_NO_PAD.decode(subscription.p256dh.trim_end_matches('=')).map_err(|e| e.to_string())?;
        let ua_public = p256::PublicKey::from_sec1_bytes(&p256dh).map_err(|e| format!("p256dh: {e}"))?;
        let auth: [u8; 16] = URL_SAFE_NO_PAD
            .decode(subscription.auth.trim_end_matches('='))
            .map_err(|e| e.to_string())?
            .try_into()
            .map_err(|_| "auth is not 16 bytes".to_owned())?;
        let request = WebPushBuilder::new(endpoint, ua_public, Auth::from(auth))
            .with_valid_duration(TIME_TO_LIVE)
            .with_vapid(&self.key, &self.subject)
            .build(payload.to_vec())
            .map_err(|e| format!("building the request: {e}"))?;
        let (parts, body) = request.into_parts();
        let mut outgoing = self.http.post(parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
        let answer = outgoing.header("Urgency", "normal").send().await.map_err(|e| e.to_string())?;
        Ok(match answer.status().as_u16() {
            200..=299 => Outcome::Accepted,
            404 | 410 => Outcome::Gone,
            other => Outcome::Refused(other),
        })
    }
}

#[async_trait]
impl Channel for WebPush {
    async fn deliver(&self, member: i64, notification: &Notification) {
        let subscriptions = match self.db.conn().await {
            Ok(mut conn) => push::of_members(&mut conn, &[member]).await,
            Err(e) => Err(e),
        };
        let subscriptions = match subscriptions {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, member.id = member, "push subscriptions unreadable; notification dropped");
                return;
            }
        };
        let payload = serde_json::to_vec(notification).expect("notifications serialise");
        for subscription in &subscriptions {
            match self.send(subscription, &payload).await {
                Ok(Outcome::Accepted) => metrics::counter!("natter_push_sent_total").increment(1),
                Ok(Outcome::Gone) => {
                    tracing::info!(member.id = member, "push subscription gone; forgotten");
                    if let Ok(mut conn) = self.db.conn().await
                        && let Err(e) = push::forget(&mut conn, &subscription.endpoint).await
                    {
                        tracing::warn!(error = %e, "gone push subscription not forgotten");
                    }
                }
                Ok(Outcome::Refused(status)) => {
                    metrics::counter!("natter_push_failed_total").increment(1);
                    tracing::warn!(status, member.id = member, "push service refused a notification");
                }
                Err(e) => {
                    metrics::counter!("natter_push_failed_total").increment(1);
                    tracing::warn!(error = %e, member.id = member, "push notification not sent");
                }
            }
        }
    }
}

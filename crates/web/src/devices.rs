//! The browsers a member is logged in on, and "log out other devices".
//!
//! Sessions live in the shared key-value store under a hash of their key, so they cannot be listed
//! by member. Each login therefore records a device entry (a random id, the browser from its
//! User-Agent, when) in a per-member list, `devices:{member}`, and stamps the session with the
//! member's session **generation** (`session_generation:{member}`, 0 until first bumped). "Log out
//! other devices" bumps the generation and re-stamps only the current session; a middleware ends any
//! session whose stamp is older on its next request. One key-value read per logged-in request buys
//! that; a store outage keeps sessions working (logged, not enforced) rather than logging everyone out.

use std::time::Duration;

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use serde::{Deserialize, Serialize};

use crate::app::State;
use crate::error::PageError;

const SESSION_DEVICE: &str = "device";
const SESSION_GENERATION: &str = "generation";
/// Devices listed per member; older entries drop off.
const MAX_DEVICES: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Device {
    pub(crate) id: String,
    /// The browser and system, in words ("Chrome on Linux").
    pub(crate) agent: String,
    pub(crate) since_ms: i64,
}

fn list_key(member: i64) -> String {
    format!("devices:{member}")
}

fn generation_key(member: i64) -> String {
    format!("session_generation:{member}")
}

async fn generation(state: &State, member: i64) -> Result<u64, PageError> {
    let stored = state.kv.get(&generation_key(member)).await.map_err(PageError::unavailable)?;
    Ok(stored.and_then(|g| g.parse().ok()).unwrap_or(0))
}

async fn devices(state: &State, member: i64) -> Result<Vec<Device>, PageError> {
    let stored = state.kv.get(&list_key(member)).await.map_err(PageError::unavailable)?;
    let oldest = chrono::Utc::now().timestamp_millis() - state.session_ttl.as_millis() as i64;
    let mut list: Vec<Device> = stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    list.retain(|d| d.since_ms >= oldest);
    Ok(list)
}

async fn save(state: &State, member: i64, list: &[Device]) -> Result<(), PageError> {
    let value = serde_json::to_string(list).expect("devices serialise");
    state.kv.set(&list_key(member), &value, state.session_ttl).await.map_err(PageError::unavailable)
}

/// The request's User-Agent header (empty when absent).
pub(crate) fn user_agent(request: &actix_web::HttpRequest) -> String {
    request.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// "Chrome on Linux" from a User-Agent header: enough to tell one's devices apart.
pub(crate) fn describe(user_agent: &str) -> String {
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(mark, _)| user_agent.contains(mark))
        .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// Records the login that just started `session` (after `auth::start_session`).
pub(crate) async fn record_login(
    state: &State,
    session: &Session,
    member: i64,
    user_agent: &str,
) -> Result<(), PageError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    session.insert(SESSION_DEVICE, &id).map_err(PageError::internal)?;
    session.insert(SESSION_GENERATION, generation(state, member).await?).map_err(PageError::internal)?;
    let mut list = devices(state, member).await?;
    list.push(Device { id, agent: describe(user_agent), since_ms: chrono::Utc::now().timestamp_millis() });
    let excess = list.len().saturating_sub(MAX_DEVICES);
    list.drain(..excess);
    save(state, member, &list).await
}

/// The member's devices, newest first, and which one is this session's.
pub(crate) async fn list(
    state: &State,
    session: &Session,
    member: i64,
) -> Result<(Vec<Device>, String), PageError> {
    let mut list = devices(state, member).await?;
    list.reverse();
    let current = session.get::<String>(SESSION_DEVICE).ok().flatten().unwrap_or_default();
    Ok((list, current))
}

/// Ends every other session of the member; this one stays.
pub(crate) async fn log_out_others(state: &State, session: &Session, member: i64) -> Result<(), PageError> {
    let next = generation(state, member).await? + 1;
    let ttl = state.session_ttl.max(Duration::from_secs(1));
    state.kv.set(&generation_key(member), &next.to_string(), ttl).await.map_err(PageError::unavailable)?;
    session.insert(SESSION_GENERATION, next).map_err(PageError::internal)?;
    let current = session.get::<String>(SESSION_DEVICE).ok().flatten().unwrap_or_default();
    let mut list = devices(state, member).await?;
    list.retain(|d| d.id == current);
    save(state, member, &list).await
}

/// Forgets this session's device (logging out).
pub(crate) async fn forget(state: &State, session: &Session, member: i64) {
    let current = session.get::<String>(SESSION_DEVICE).ok().flatten().unwrap_or_default();
    if let Ok(mut list) = devices(state, member).await {
        list.retain(|d| d.id != current);
        let _ = save(state, member, &list).await;
    }
}

/// Ends a session stamped before its member's last "log out other devices".
pub(crate) async fn end_sessions_logged_out_elsewhere(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let session = request.get_session();
    if let Some(member) = crate::auth::session_member(&session)
        && let Some(state) = request.app_data::<web::Data<State>>()
    {
        let stamped = session.get::<u64>(SESSION_GENERATION).ok().flatten().unwrap_or(0);
        match generation(state, member).await {
            Ok(current) if stamped < current => {
                tracing::info!(member.id = member, "session ended: logged out from another device");
                // A fresh, empty session (not `purge`, which would drop what this request stores,
                // such as the login form's CSRF token).
                session.clear();
                session.renew();
            }
            Ok(_) => {}
            Err(_) => tracing::warn!(member.id = member, "session generation unreadable; not enforced"),
        }
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn devices_are_told_apart_in_words() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(describe(chrome), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(iphone), "Safari on iPhone");
        assert_eq!(
            describe("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"),
            "Firefox on Windows"
        );
        assert_eq!(describe(""), "A browser");
    }
}

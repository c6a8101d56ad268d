//! Checking a username and password, shared by the form login and the REST login: throttling first
//! (so past the limit even the right password waits), then argon2 verification that costs the same
//! for unknown users.

use std::net::IpAddr;
use std::time::Duration;

use natter_db::{Member, members};

use crate::app::State;
use crate::auth;
use crate::error::PageError;

pub(crate) enum LoginFailure {
    /// Too many failures in the window; try again after this long.
    Throttled(Duration),
    /// Unknown user or wrong password (deliberately not told apart).
    Invalid,
    /// A store did not answer.
    Unavailable(PageError),
}

pub(crate) async fn authenticate(
    state: &State,
    username: &str,
    password: String,
    address: Option<IpAddr>,
) -> Result<Member, LoginFailure> {
    let account = natter_db::username_key(username.trim());
    let unavailable = |e: &dyn std::fmt::Display| LoginFailure::Unavailable(PageError::unavailable(e));
    if let Some(wait) = state.throttle.must_wait(&account, address).await.map_err(|e| unavailable(&e))? {
        return Err(LoginFailure::Throttled(wait));
    }
    // Not held across the (slow) password check.
    let mut conn = state.db.conn().await.map_err(|e| unavailable(&e))?;
    let member = members::by_username(&mut conn, username.trim()).await.map_err(|e| unavailable(&e))?;
    drop(conn);
    let hash = member.as_ref().map(|m| m.password_hash.clone());
    let valid = auth::verify_password(password, hash).await.map_err(LoginFailure::Unavailable)?;
    match member {
        Some(member) if valid => {
            state.throttle.succeeded(&account).await.map_err(|e| unavailable(&e))?;
            tracing::info!(member.id = member.id, "member logged in");
            Ok(member)
        }
        _ => {
            state.throttle.failed(&account, address).await.map_err(|e| unavailable(&e))?;
            Err(LoginFailure::Invalid)
        }
    }
}

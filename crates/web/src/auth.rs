//! Passwords (argon2id) and the logged-in member of a request.

use std::sync::LazyLock;

use actix_session::Session;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::PageError;

const SESSION_MEMBER: &str = "member_id";
const SESSION_CSRF: &str = "csrf";

/// Hashes a password with argon2id and a random salt, off the async threads (it is slow on purpose).
pub(crate) async fn hash_password(password: String) -> Result<String, PageError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(PageError::internal)?
        .map_err(PageError::internal)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let hash: PasswordHash = Argon2::default().hash_password(password.as_bytes())?;
    Ok(hash.to_string())
}

/// A hash of a random password, verified when the username is unknown so that a login attempt costs
/// the same whether or not the account exists (no user enumeration by timing).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("OS randomness");
    hash_blocking(&format!("{random:?}")).expect("hashing a fixed-size password works")
});

/// Checks `password` against `hash` (or against the dummy hash when there is no account).
pub(crate) async fn verify_password(password: String, hash: Option<String>) -> Result<bool, PageError> {
    tokio::task::spawn_blocking(move || {
        // No account, or one without a password (signed up through a provider): verify against the
        // dummy hash anyway, so every failure costs one argon2 run.
        let usable = hash.filter(|h| PasswordHash::new(h).is_ok());
        let exists = usable.is_some();
        let hash = usable.as_deref().unwrap_or(DUMMY_HASH.as_str());
        let ok = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
        ok && exists
    })
    .await
    .map_err(PageError::internal)
}

/// Logs the member in: a fresh session id (no fixation) holding the member id.
pub(crate) fn start_session(session: &Session, member_id: i64) -> Result<(), PageError> {
    session.renew();
    session.insert(SESSION_MEMBER, member_id).map_err(PageError::internal)
}

/// The logged-in member, if any.
pub(crate) fn session_member(session: &Session) -> Option<i64> {
    session.get::<i64>(SESSION_MEMBER).ok().flatten()
}

/// The session's CSRF token, made on first use. Every form carries it in a hidden `csrf` field and
/// every form post is checked against it (synchroniser token), on top of `SameSite=Lax` cookies.
pub(crate) fn csrf_token(session: &Session) -> Result<String, PageError> {
    if let Ok(Some(token)) = session.get::<String>(SESSION_CSRF) {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(PageError::internal)?;
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    session.insert(SESSION_CSRF, &token).map_err(PageError::internal)?;
    Ok(token)
}

/// Refuses a form post whose CSRF token is missing or not this session's.
pub(crate) fn check_csrf(session: &Session, presented: &str) -> Result<(), PageError> {
    let expected = session.get::<String>(SESSION_CSRF).ok().flatten().unwrap_or_default();
    if expected.is_empty() || !constant_time_eq::constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(PageError::forbidden("This form has expired. Reload the page and try again."));
    }
    Ok(())
}

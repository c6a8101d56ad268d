//! Web settings, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_WEB_BIND` | `127.0.0.1:8080` | address to listen on |
//! | `NATTER_WEB_PUBLIC_URL` | `http://127.0.0.1:8080` | URL browsers use for web; `https` makes cookies `Secure` |
//! | `NATTER_MESSAGE_PUBLIC_URL` | `ws://127.0.0.1:8081` | URL browsers use for the message host |
//! | `NATTER_SESSION_KEY` | — (required) | base64 of 64 random bytes; encrypts and signs session cookies |
//! | `NATTER_TOKEN_SIGNING_KEY` | — (required) | base64 of a 32-byte Ed25519 seed; signs message-host tokens |
//! | `NATTER_TOKEN_PREVIOUS_KEYS` | empty | comma-separated public keys (JWK `x`) of retired signing keys, still published so their tokens verify until they expire |
//! | `NATTER_TOKEN_TTL_SECS` | `300` | lifetime of a message-host token |
//! | `NATTER_ACCESS_TOKEN_TTL_SECS` | `600` | lifetime of a REST access token |
//! | `NATTER_REFRESH_TOKEN_TTL_SECS` | `2592000` | lifetime of a REST refresh token (30 days) |
//! | `NATTER_INTERNAL_TOKEN` | — (required) | shared secret of internal endpoints |
//! | `NATTER_DATABASE_URL` | — (required) | PostgreSQL URL (binary `natter-web`) |
//! | `NATTER_DATABASE_POOL_SIZE` | `8` | PostgreSQL connections |
//! | `NATTER_MONGODB_URL`, `NATTER_MONGODB_DATABASE` | —, `natter` | history store |
//! | `NATTER_REDIS_URL`, `NATTER_REDIS_KEY_PREFIX` | —, `natter:` | sessions and login throttling |
//! | `NATTER_SESSION_TTL_SECS` | `86400` | a session ends after this long without a request |
//! | `NATTER_LOGIN_MAX_FAILURES` | `5` | failed logins per account per window before logins wait |
//! | `NATTER_LOGIN_MAX_FAILURES_PER_ADDRESS` | `50` | failed logins per client address per window |
//! | `NATTER_LOGIN_WINDOW_SECS` | `900` | the throttling window |
//! | `NATTER_SIGNUP_MAX_PER_ADDRESS` | `20` | sign-up attempts per client address per window |
//! | `NATTER_SIGNUP_WINDOW_SECS` | `3600` | the sign-up window |
//! | `NATTER_KAFKA_BROKERS` | — (required) | Kafka bootstrap servers (binary `natter-web`): membership events |
//! | `NATTER_KAFKA_TOPIC_PREFIX` | empty | prefix of every topic name |
//! | `NATTER_OAUTH_*` | none | login providers; see [`crate::oauth::providers`] |
//! | `NATTER_PRESENCE_URL` | `http://127.0.0.1:8082` | presence, asked for the dots of member lists |
//! | `NATTER_READ_PUSH_MS` | `500` | read-position moves are pushed to the room at most this often per member and room |
//! | `NATTER_FILES_*`, `NATTER_S3_*` | | file uploads and storage; see [`crate::files::FileSettings`] |

use std::time::Duration;

use base64::Engine;
use natter_runtime::env::{Env, EnvError};
use natter_token::TokenSigner;
use secrecy::SecretString;

use crate::oauth::OAuthProviders;
use crate::throttle::ThrottleSettings;

#[derive(Debug)]
pub struct WebSettings {
    pub bind: String,
    pub public_url: String,
    pub message_public_url: String,
    /// 64 bytes; never printed.
    pub session_key: SessionKey,
    pub signer: TokenSigner,
    pub internal_token: SecretString,
    pub session_ttl: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub throttle: ThrottleSettings,
    pub oauth: OAuthProviders,
    pub topic_prefix: String,
    pub presence_url: String,
    pub read_push_every: Duration,
    pub files: crate::files::FileSettings,
    /// Web Push; `None` when no VAPID key is set.
    pub push: Option<crate::push::PushSettings>,
    /// STUN and TURN servers for calls.
    pub ice: crate::calls::ice::IceSettings,
}

/// The session cookie key. Its `Debug` does not print it.
pub struct SessionKey(pub Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// The secrets web holds. Production reads them from the environment ([`WebSecrets::from_env`]);
/// standalone mode makes fresh ones for any that are not given ([`WebSecrets::from_env_or_random`]).
pub struct WebSecrets {
    pub session_key: SessionKey,
    /// The Ed25519 seed message-host tokens are signed with.
    pub signing_seed: [u8; 32],
    pub internal_token: SecretString,
    /// The VAPID private key (a P-256 scalar) Web Push requests are signed with; push notifications
    /// are off without one.
    pub vapid_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for WebSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSecrets(..)")
    }
}

const SESSION_KEY: &str = "NATTER_SESSION_KEY";
const SESSION_KEY_HINT: &str = "base64 of 64 random bytes (openssl rand -base64 64)";
const SIGNING_KEY: &str = "NATTER_TOKEN_SIGNING_KEY";
const SIGNING_KEY_HINT: &str = "base64 of 32 random bytes (openssl rand -base64 32)";
const INTERNAL_TOKEN: &str = "NATTER_INTERNAL_TOKEN";
const INTERNAL_TOKEN_HINT: &str = "a long random shared secret of the services";
const VAPID_KEY: &str = "NATTER_VAPID_PRIVATE_KEY";
const VAPID_KEY_HINT: &str = "base64 of a P-256 private key's 32 bytes (see README: Push notifications)";

impl WebSecrets {
    /// Every secret from the environment; a missing one is an error that names it.
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            session_key: SessionKey(env.secret_bytes(SESSION_KEY, 64, SESSION_KEY_HINT)?),
            signing_seed: env
                .secret_bytes(SIGNING_KEY, 32, SIGNING_KEY_HINT)?
                .try_into()
                .expect("length checked"),
            internal_token: env.secret(INTERNAL_TOKEN, INTERNAL_TOKEN_HINT)?,
            vapid_key: match env.optional(VAPID_KEY) {
                Some(_) => Some(vapid_key(env)?),
                None => None,
            },
        })
    }

    /// The secrets that are set in the environment, and fresh random ones for the rest (sessions and
    /// tokens signed with a fresh key end with the process).
    pub fn from_env_or_random(env: &Env) -> Result<Self, EnvError> {
        let given = |name: &str| env.optional(name).is_some();
        Ok(Self {
            session_key: match given(SESSION_KEY) {
                true => SessionKey(env.secret_bytes(SESSION_KEY, 64, SESSION_KEY_HINT)?),
                false => SessionKey(random_bytes::<64>().to_vec()),
            },
            signing_seed: match given(SIGNING_KEY) {
                true => {
                    env.secret_bytes(SIGNING_KEY, 32, SIGNING_KEY_HINT)?.try_into().expect("length checked")
                }
                false => random_bytes::<32>(),
            },
            internal_token: match given(INTERNAL_TOKEN) {
                true => env.secret(INTERNAL_TOKEN, INTERNAL_TOKEN_HINT)?,
                false => {
                    SecretString::from(base64::engine::general_purpose::STANDARD.encode(random_bytes::<32>()))
                }
            },
            // A fresh key means browsers subscribed before a restart must subscribe again (the
            // client does so whenever the key it subscribed with is not the server's).
            vapid_key: Some(match given(VAPID_KEY) {
                true => vapid_key(env)?,
                false => crate::push::random_key(),
            }),
        })
    }
}

/// `NATTER_VAPID_PRIVATE_KEY`, checked to be a P-256 private key.
fn vapid_key(env: &Env) -> Result<[u8; 32], EnvError> {
    let bytes: [u8; 32] =
        env.secret_bytes(VAPID_KEY, 32, VAPID_KEY_HINT)?.try_into().expect("length checked");
    crate::push::check_key(&bytes).map_err(|reason| EnvError::Invalid { name: VAPID_KEY.into(), reason })?;
    Ok(bytes)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes
}

impl WebSettings {
    /// Every setting from the environment (the `natter-web` binary).
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        Self::with_secrets(env, WebSecrets::from_env(env)?)
    }

    /// The settings from the environment, with the secrets given.
    pub fn with_secrets(env: &Env, secrets: WebSecrets) -> Result<Self, EnvError> {
        let ttl = Duration::from_secs(env.parse_or("NATTER_TOKEN_TTL_SECS", 300u64)?);
        Ok(Self {
            bind: env.or("NATTER_WEB_BIND", "127.0.0.1:8080"),
            public_url: env
                .or("NATTER_WEB_PUBLIC_URL", "http://127.0.0.1:8080")
                .trim_end_matches('/')
                .to_owned(),
            message_public_url: env
                .or("NATTER_MESSAGE_PUBLIC_URL", "ws://127.0.0.1:8081")
                .trim_end_matches('/')
                .to_owned(),
            session_key: secrets.session_key,
            signer: TokenSigner::from_seed(&secrets.signing_seed, ttl)
                .with_previous_keys(
                    env.or("NATTER_TOKEN_PREVIOUS_KEYS", "").split(',').filter(|k| !k.trim().is_empty()),
                )
                .map_err(|reason| EnvError::Invalid { name: "NATTER_TOKEN_PREVIOUS_KEYS".into(), reason })?,
            internal_token: secrets.internal_token,
            session_ttl: Duration::from_secs(env.parse_or("NATTER_SESSION_TTL_SECS", 86_400u64)?),
            access_token_ttl: Duration::from_secs(env.parse_or("NATTER_ACCESS_TOKEN_TTL_SECS", 600u64)?),
            refresh_token_ttl: Duration::from_secs(
                env.parse_or("NATTER_REFRESH_TOKEN_TTL_SECS", 2_592_000u64)?,
            ),
            push: match secrets.vapid_key {
                Some(key) => Some(crate::push::PushSettings::from_env(env, key)?),
                None => None,
            },
            ice: crate::calls::ice::IceSettings::from_env(env)?,
            oauth: OAuthProviders::from_env(env)?,
            topic_prefix: env.or("NATTER_KAFKA_TOPIC_PREFIX", ""),
            presence_url: env
                .or("NATTER_PRESENCE_URL", "http://127.0.0.1:8082")
                .trim_end_matches('/')
                .to_owned(),
            read_push_every: Duration::from_millis(env.parse_range_or(
                "NATTER_READ_PUSH_MS",
                500u64,
                50..=60_000,
            )?),
            files: crate::files::FileSettings::from_env(env)?,
            throttle: ThrottleSettings {
                max_failures_per_account: env.parse_or("NATTER_LOGIN_MAX_FAILURES", 5u64)?,
                max_failures_per_address: env.parse_or("NATTER_LOGIN_MAX_FAILURES_PER_ADDRESS", 50u64)?,
                window: Duration::from_secs(env.parse_or("NATTER_LOGIN_WINDOW_SECS", 900u64)?),
                max_sign_ups_per_address: env.parse_or("NATTER_SIGNUP_MAX_PER_ADDRESS", 20u64)?,
                sign_up_window: Duration::from_secs(env.parse_or("NATTER_SIGNUP_WINDOW_SECS", 3600u64)?),
            },
        })
    }

    /// Cookies are `Secure` when browsers reach web over https.
    pub fn cookie_secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

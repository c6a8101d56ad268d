//! Presence settings, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_PRESENCE_BIND` | `127.0.0.1:8082` | address to listen on |
//! | `NATTER_REDIS_URL` | — (required) | Redis holding presence |
//! | `NATTER_REDIS_KEY_PREFIX` | `natter:` | prefix of every Redis key |
//! | `NATTER_INTERNAL_TOKEN` | — (required) | shared secret of internal endpoints |

use natter_runtime::env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct PresenceSettings {
    pub bind: String,
    pub internal_token: SecretString,
}

impl PresenceSettings {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind: env.or("NATTER_PRESENCE_BIND", "127.0.0.1:8082"),
            internal_token: env
                .secret("NATTER_INTERNAL_TOKEN", "a long random shared secret of the services")?,
        })
    }
}

//! Presence settings, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_PRESENCE_BIND` | `127.0.0.1:8082` | address to listen on |
//! | `NATTER_REDIS_URL` | — (required) | Redis holding presence |
//! | `NATTER_REDIS_KEY_PREFIX` | `natter:` | prefix of every Redis key |
//! | `NATTER_INTERNAL_TOKEN` | — (required) | shared secret of internal endpoints |
//! | `NATTER_PRESENCE_AWAY_SECS` | `300` | idle time after which a connected member shows as away |
//! | `NATTER_PRESENCE_SWEEP_MS` | `1000` | how often expired pod leases are looked for |

use std::time::Duration;

use natter_runtime::env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct PresenceSettings {
    pub bind: String,
    pub internal_token: SecretString,
    pub away_after: Duration,
    pub sweep_every: Duration,
}

impl PresenceSettings {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let sweep_ms = env.parse_or("NATTER_PRESENCE_SWEEP_MS", 1000u64)?;
        if !(50..=60_000).contains(&sweep_ms) {
            return Err(EnvError::Invalid {
                name: "NATTER_PRESENCE_SWEEP_MS".into(),
                reason: "must be between 50 and 60000".into(),
            });
        }
        Ok(Self {
            away_after: Duration::from_secs(env.parse_or("NATTER_PRESENCE_AWAY_SECS", 300u64)?),
            sweep_every: Duration::from_millis(sweep_ms),
            bind: env.or("NATTER_PRESENCE_BIND", "127.0.0.1:8082"),
            internal_token: env
                .secret("NATTER_INTERNAL_TOKEN", "a long random shared secret of the services")?,
        })
    }
}

//! Verifying message-host tokens with web's public keys, fetched from its JWKS and cached. A token
//! with an unknown `kid` (web rotated its key) triggers one refresh, at most every few seconds, so a
//! flood of forged tokens cannot turn into a flood of requests to web.

use std::time::{Duration, Instant};

use natter_proto::token::TokenClaims;
use natter_token::{JwkSet, TokenError, TokenVerifier};
use tokio::sync::Mutex;

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) struct Keys {
    verifier: TokenVerifier,
    jwks_url: String,
    http: reqwest::Client,
    /// When keys were last loaded successfully; failed attempts are not throttled, so a pod that
    /// started before web recovers on the next connection.
    last_success: Mutex<Option<Instant>>,
}

impl Keys {
    pub(crate) fn new(web_url: &str) -> Self {
        Self {
            verifier: TokenVerifier::new(),
            jwks_url: format!("{}/.well-known/jwks.json", web_url.trim_end_matches('/')),
            http: reqwest::Client::builder().timeout(Duration::from_secs(3)).build().expect("valid client"),
            last_success: Mutex::new(None),
        }
    }

    /// Fetches the keys now (start-up); failure is logged and retried on the first connection.
    pub(crate) async fn prefetch(&self) {
        self.refresh().await;
    }

    async fn refresh(&self) -> bool {
        let mut last = self.last_success.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return false;
        }
        let fetched =
            async { self.http.get(&self.jwks_url).send().await?.error_for_status()?.json::<JwkSet>().await };
        match fetched.await {
            Ok(jwks) => {
                self.verifier.set_keys(&jwks);
                *last = Some(Instant::now());
                tracing::info!(keys = jwks.keys.len(), "token keys loaded from web");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, url = %self.jwks_url, "cannot fetch token keys from web");
                false
            }
        }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        match self.verifier.verify(token) {
            Err(TokenError::UnknownKey) => {
                let kid = TokenVerifier::key_id(token)?;
                if !self.verifier.knows(&kid) && self.refresh().await {
                    self.verifier.verify(token)
                } else {
                    Err(TokenError::UnknownKey)
                }
            }
            other => other,
        }
    }
}

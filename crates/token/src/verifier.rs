//! Verifying tokens (message pods), against keys from web's JWKS.

use std::collections::HashMap;
use std::sync::RwLock;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use natter_proto::token::{MESSAGE_TOKEN_AUDIENCE, TOKEN_ISSUER, TokenClaims};

/// Why a token was refused. The messages are safe to show to the client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("no token was presented")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid")]
    Invalid,
}

/// Verifies message-host tokens with the public keys it was given.
#[derive(Default)]
pub struct TokenVerifier {
    keys: RwLock<HashMap<String, DecodingKey>>,
}

impl TokenVerifier {
    /// An empty verifier; give it keys with [`TokenVerifier::set_keys`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the known keys with the EdDSA keys of `jwks` that carry a `kid`.
    pub fn set_keys(&self, jwks: &JwkSet) {
        let keys = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((kid, key))
            })
            .collect();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Whether a key with this id is known.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).contains_key(kid)
    }

    /// The `kid` in a token's header, without verifying anything.
    pub fn key_id(token: &str) -> Result<String, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        header.kid.ok_or(TokenError::UnknownKey)
    }

    /// Checks a message-host token: see [`TokenVerifier::verify_for`].
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        self.verify_for(token, MESSAGE_TOKEN_AUDIENCE)
    }

    /// Checks signature (EdDSA only: `alg: none` and HMAC are refused), audience, issuer and expiry.
    pub fn verify_for(&self, token: &str, audience: &str) -> Result<TokenClaims, TokenError> {
        let kid = Self::key_id(token)?;
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 5;
        jsonwebtoken::decode::<TokenClaims>(token, key, &validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })
    }
}

//! Tokens for the message host.
//!
//! Why asymmetric keys: web signs with an Ed25519 private key that only web pods hold; message pods
//! verify with the public key they fetch from web's JWKS (`/.well-known/jwks.json`) and cache, so they
//! verify every connection locally and keep working while web is briefly down, and a compromised message
//! pod cannot mint tokens. The key id (`kid`) is derived from the public key, so every web pod with the
//! same key announces the same `kid`, and a rotated key gets a new one.

mod signer;
mod verifier;

pub use jsonwebtoken::jwk::JwkSet;
pub use signer::TokenSigner;
pub use verifier::{TokenError, TokenVerifier};

#[cfg(test)]
mod tests;

//! Issuing tokens (web).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use natter_proto::MemberId;
use natter_proto::token::{MESSAGE_TOKEN_AUDIENCE, TOKEN_ISSUER, TokenClaims};

/// Signs message-host tokens with one Ed25519 key and publishes its public half as a JWKS.
pub struct TokenSigner {
    kid: String,
    key: EncodingKey,
    jwks: JwkSet,
    ttl: Duration,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner").field("kid", &self.kid).field("ttl", &self.ttl).finish()
    }
}

/// The `kid` of a public key: the same for every web pod holding that key.
fn key_id(public: &[u8; 32]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&public[..9])
}

/// The JWK of an Ed25519 public key.
fn public_jwk(public: &[u8; 32]) -> Jwk {
    Jwk {
        common: CommonParameters {
            key_id: Some(key_id(public)),
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public),
        }),
    }
}

impl TokenSigner {
    /// A signer from a 32-byte Ed25519 seed (the operator's `NATTER_TOKEN_SIGNING_KEY`).
    pub fn from_seed(seed: &[u8; 32], ttl: Duration) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let der = signing.to_pkcs8_der().expect("an Ed25519 key always encodes as PKCS#8");
        let key = EncodingKey::from_ed_der(der.as_bytes());
        let public = signing.verifying_key().to_bytes();
        let kid = key_id(&public);
        Self { kid, key, jwks: JwkSet { keys: vec![public_jwk(&public)] }, ttl }
    }

    /// Also publishes retired public keys (the `x` values of their JWKs, base64url), so tokens signed
    /// before a key rotation keep verifying until they expire; only the current key signs.
    pub fn with_previous_keys<'a>(
        mut self,
        previous: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        for x in previous {
            let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(x.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| format!("{x:?} is not a base64url Ed25519 public key (a JWK x value)"))?;
            if key_id(&public) != self.kid {
                self.jwks.keys.push(public_jwk(&public));
            }
        }
        Ok(self)
    }

    /// A signer with a fresh random key (standalone mode, tests).
    pub fn generate(ttl: Duration) -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS random source is available");
        Self::from_seed(&seed, ttl)
    }

    /// The key id this signer puts in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys to publish.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// How long an issued token is valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `member_id` to open a WebSocket on the message host, valid for the signer's TTL.
    pub fn issue(&self, member_id: MemberId, display_name: &str) -> String {
        self.issue_for(MESSAGE_TOKEN_AUDIENCE, self.ttl, member_id, display_name)
    }

    /// A token for `audience`, valid for `ttl`.
    pub fn issue_for(
        &self,
        audience: &str,
        ttl: Duration,
        member_id: MemberId,
        display_name: &str,
    ) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = TokenClaims {
            sub: member_id.to_string(),
            name: display_name.to_owned(),
            aud: audience.to_owned(),
            iss: TOKEN_ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims; tests use it to make expired or wrong-audience tokens.
    pub fn sign(&self, claims: &TokenClaims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("EdDSA signing of plain claims cannot fail")
    }
}

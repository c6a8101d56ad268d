//! Claims of the tokens web issues: short-lived message-host tokens (a page opens a WebSocket with one)
//! and access tokens of the REST API. Both are EdDSA JWTs with the same claims; the audience tells
//! them apart, so one cannot be used as the other.

use serde::{Deserialize, Serialize};

use crate::MemberId;

/// Audience of message-host tokens; other audiences are refused by message pods.
pub const MESSAGE_TOKEN_AUDIENCE: &str = "natter-message";
/// Audience of REST API access tokens.
pub const API_TOKEN_AUDIENCE: &str = "natter-api";
/// Issuer of tokens minted by web.
pub const TOKEN_ISSUER: &str = "natter-web";
/// The WebSocket subprotocol a client must offer; the token rides in a second offered subprotocol,
/// `natter.token.<jwt>`, because browsers cannot set headers on a WebSocket handshake.
pub const WS_SUBPROTOCOL: &str = "natter.v1";
/// Prefix of the subprotocol entry that carries the token.
pub const WS_TOKEN_SUBPROTOCOL_PREFIX: &str = "natter.token.";

/// Claims of a web-issued token (a JWT signed with EdDSA; `kid` names the web key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Member id, as a decimal string (JWT convention).
    pub sub: String,
    /// Display name, shown to other members on messages.
    pub name: String,
    pub aud: String,
    pub iss: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
}

impl TokenClaims {
    /// The member id in `sub`, if it is one.
    pub fn member_id(&self) -> Option<MemberId> {
        self.sub.parse().ok()
    }
}

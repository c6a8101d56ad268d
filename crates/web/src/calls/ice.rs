//! ICE servers for calls (`GET /api/v1/calls/ice`): the STUN and TURN servers an operator configured
//! (`NATTER_ICE_SERVERS`), TURN ones with short-lived credentials in the scheme coturn implements as
//! its "TURN REST API" (`use-auth-secret` with `static-auth-secret` = `NATTER_TURN_SECRET`): the
//! username is `{expiry, unix seconds}:{member id}` and the credential base64(HMAC-SHA1(secret,
//! username)). The TURN server checks both itself, so the secret never leaves the servers and a
//! credential stops working when it expires.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use natter_proto::http::{IceServer, IceServers};
use natter_runtime::env::{Env, EnvError};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// ICE settings.
#[derive(Debug)]
pub struct IceSettings {
    /// STUN URLs, handed out as they are.
    stun: Vec<String>,
    /// TURN URLs, handed out with credentials.
    turn: Vec<String>,
    /// The secret shared with the TURN server.
    turn_secret: Option<SecretString>,
    /// How long TURN credentials last.
    turn_ttl: Duration,
}

impl IceSettings {
    pub(crate) fn from_env(env: &Env) -> Result<Self, EnvError> {
        let invalid = |reason: String| EnvError::Invalid { name: "NATTER_ICE_SERVERS".into(), reason };
        let (mut stun, mut turn) = (Vec::new(), Vec::new());
        for url in env.or("NATTER_ICE_SERVERS", "").split(',').map(str::trim).filter(|u| !u.is_empty()) {
            match url.split_once(':').map(|(scheme, _)| scheme) {
                Some("stun" | "stuns") => stun.push(url.to_owned()),
                Some("turn" | "turns") => turn.push(url.to_owned()),
                _ => return Err(invalid(format!("{url} is not a stun:, stuns:, turn: or turns: URL"))),
            }
        }
        let turn_secret = env.optional("NATTER_TURN_SECRET").map(SecretString::from);
        if !turn.is_empty() && turn_secret.is_none() {
            return Err(invalid("TURN servers need NATTER_TURN_SECRET (coturn's static-auth-secret)".into()));
        }
        Ok(Self {
            stun,
            turn,
            turn_secret,
            turn_ttl: Duration::from_secs(env.parse_or("NATTER_TURN_TTL_SECS", 3600u64)?),
        })
    }

    /// The servers for `member` at `now_unix` (seconds), as `RTCPeerConnection` takes them.
    pub(crate) fn servers_for(&self, member: i64, now_unix: i64) -> IceServers {
        let mut ice_servers = Vec::new();
        if !self.stun.is_empty() {
            ice_servers.push(IceServer { urls: self.stun.clone(), username: None, credential: None });
        }
        let mut expires_at_ms = None;
        if let (false, Some(secret)) = (self.turn.is_empty(), &self.turn_secret) {
            let expiry = now_unix + self.turn_ttl.as_secs() as i64;
            let username = format!("{expiry}:{member}");
            ice_servers.push(IceServer {
                urls: self.turn.clone(),
                credential: Some(turn_credential(secret.expose_secret(), &username)),
                username: Some(username),
            });
            expires_at_ms = Some(expiry * 1000);
        }
        IceServers { ice_servers, expires_at_ms }
    }
}

/// The TURN REST API credential for `username`: base64(HMAC-SHA1(secret, username)).
fn turn_credential(secret: &str, username: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<IceSettings, EnvError> {
        IceSettings::from_env(&Env::from_pairs(vars.iter().copied()))
    }

    #[test]
    fn the_credential_is_coturns_rest_api_scheme() {
        // Computed independently: python3 -c "import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b'north-sea-secret', b'1796256000:42', hashlib.sha1).digest()))"
        assert_eq!(turn_credential("north-sea-secret", "1796256000:42"), "lUU3J1vXZfICK0+H9iyrtEsa6c0=");
    }

    #[test]
    fn stun_as_given_turn_with_credentials_that_expire() {
        let ice = settings(&[
            ("NATTER_ICE_SERVERS", "stun:stun.example.org:3478, turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349"),
            ("NATTER_TURN_SECRET", "north-sea-secret"),
            ("NATTER_TURN_TTL_SECS", "600"),
        ])
        .unwrap();
        let servers = ice.servers_for(42, 1_796_255_400);
        assert_eq!(servers.ice_servers[0].urls, ["stun:stun.example.org:3478"]);
        assert_eq!(servers.ice_servers[0].username, None);
        let turn = &servers.ice_servers[1];
        assert_eq!(turn.urls.len(), 2);
        assert_eq!(turn.username.as_deref(), Some("1796256000:42"));
        assert_eq!(turn.credential.as_deref(), Some("lUU3J1vXZfICK0+H9iyrtEsa6c0="));
        assert_eq!(servers.expires_at_ms, Some(1_796_256_000_000));
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        assert!(settings(&[("NATTER_ICE_SERVERS", "http://stun.example.org")]).is_err());
        assert!(
            settings(&[("NATTER_ICE_SERVERS", "turn:turn.example.org")]).is_err(),
            "TURN without a secret"
        );
        let none = settings(&[]).unwrap().servers_for(1, 0);
        assert!(none.ice_servers.is_empty() && none.expires_at_ms.is_none());
    }
}

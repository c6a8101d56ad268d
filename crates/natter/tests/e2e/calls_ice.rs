//! ICE servers for calls over the API: STUN as configured, TURN with credentials per member that
//! expire (coturn's TURN REST API scheme; the HMAC itself is checked against a known answer in
//! web's unit tests), and only for a signed-in caller.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::stack::Stack;

/// Settings: a STUN and a TURN server, the secret shared with the TURN server, 10-minute credentials.
pub fn settings() -> Vec<(String, String)> {
    [
        ("NATTER_ICE_SERVERS", "stun:stun.natter.test:3478,turn:turn.natter.test:3478?transport=udp"),
        ("NATTER_TURN_SECRET", "north-sea-secret"),
        ("NATTER_TURN_TTL_SECS", "600"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into()
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben) = (api.member("ann").await, api.member("ben").await);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let servers = api.expect(StatusCode::OK, Method::GET, "/api/v1/calls/ice", &ann, None).await;
    assert_eq!(servers["ice_servers"][0], json!({"urls": ["stun:stun.natter.test:3478"]}), "{servers}");
    let turn = &servers["ice_servers"][1];
    assert_eq!(turn["urls"], json!(["turn:turn.natter.test:3478?transport=udp"]));
    let username = turn["username"].as_str().unwrap();
    let (expiry, member) = username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    assert_eq!(member, ann.id.to_string(), "{username}");
    assert!((now + 590..=now + 610).contains(&expiry), "expires in ten minutes: {username}");
    assert_eq!(servers["expires_at_ms"], json!(expiry * 1000));
    assert_eq!(turn["credential"].as_str().unwrap().len(), 28, "base64 of an HMAC-SHA1");
    let bens = api.expect(StatusCode::OK, Method::GET, "/api/v1/calls/ice", &ben, None).await;
    assert_ne!(bens["ice_servers"][1]["credential"], turn["credential"], "credentials are per member");
    let anonymous = reqwest::get(format!("{}/api/v1/calls/ice", stack.web_url)).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

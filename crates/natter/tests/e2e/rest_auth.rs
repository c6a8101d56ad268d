//! REST login as an API client sees it: tokens, refresh with rotation, reuse detection, logout, and an
//! access token that works for the API and for the message host but is refused where it does not belong.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_proto::http::{Me, TokenPair, WsToken};
use natter_proto::token::{API_TOKEN_AUDIENCE, TOKEN_ISSUER, TokenClaims};
use natter_token::TokenSigner;
use reqwest::StatusCode;
use serde_json::json;

use crate::client::{Browser, Connect, connect};
use crate::stack::{Stack, TEST_SIGNING_SEED};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap()
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post("/api/v1/auth/refresh", json!({ "refresh_token": refresh_token })).await
    }
}

pub async fn run(stack: Stack) {
    let api = Api {
        base: stack.web_url.clone(),
        http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
    };
    let name = format!("gus_{}", natter_test_support::unique_suffix());
    Browser::new(&stack.web_url).sign_up(&name, "correct horse battery").await;

    let wrong = api.post("/api/v1/auth/login", json!({"username": name, "password": "nope"})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["errors"][0]["detail"], "wrong username or password");
    let malformed = api.post("/api/v1/auth/login", json!({"user": name})).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    // What no handler sees gets the same JSON shape under /api (a bad path id or query, an unknown
    // endpoint), and the styled page elsewhere.
    for (path, status) in [
        ("/api/v1/rooms/abc", StatusCode::BAD_REQUEST),
        ("/api/v1/rooms?page=many", StatusCode::BAD_REQUEST),
        ("/api/v1/no-such-endpoint", StatusCode::NOT_FOUND),
    ] {
        let response = api.get(path, "no-token").await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(response.headers().get("content-type").unwrap(), "application/json", "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["errors"][0]["detail"].as_str().is_some_and(|d| !d.is_empty()), "{path}: {body}");
    }
    let page = api.http.get(format!("{}/rooms/abc", api.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("There is no page at this address."));
    // A method a served address does not take: 405 naming the ones it does, in the same shapes.
    let wrong_method = api.http.delete(format!("{}/api/v1/rooms/7/members", api.base)).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers().get("allow").unwrap(), "GET");
    let body: serde_json::Value = wrong_method.json().await.unwrap();
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("use GET"), "{body}");
    let wrong_page_method = api.http.put(format!("{}/rooms", api.base)).send().await.unwrap();
    assert_eq!(wrong_page_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_page_method.headers().get("allow").unwrap(), "GET, POST");

    let login =
        api.post("/api/v1/auth/login", json!({"username": name, "password": "correct horse battery"})).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(login.headers().get("cache-control").unwrap(), "no-store");
    let first: TokenPair = login.json().await.unwrap();
    assert_eq!(first.token_type, "Bearer");

    // The access token opens the API, for this member.
    let me: Me = api.get("/api/v1/me", &first.access_token).await.json().await.unwrap();
    assert_eq!(me.username, name);

    // Refused: no token, garbage, a message-host token (other audience), expired, alg none, unknown key.
    let no_token = api.http.get(format!("{}/api/v1/me", api.base)).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.get("/api/v1/me", "garbage").await.status(), StatusCode::UNAUTHORIZED);
    let ws: WsToken = api.get("/api/v1/ws-token", &first.access_token).await.json().await.unwrap();
    assert_eq!(api.get("/api/v1/me", &ws.token).await.status(), StatusCode::UNAUTHORIZED, "wrong audience");
    let signer = TokenSigner::from_seed(&TEST_SIGNING_SEED, Duration::from_secs(60));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let expired = signer.sign(&TokenClaims {
        sub: me.id.to_string(),
        name: name.clone(),
        aud: API_TOKEN_AUDIENCE.into(),
        iss: TOKEN_ISSUER.into(),
        iat: now - 900,
        exp: now - 300,
    });
    assert_eq!(api.get("/api/v1/me", &expired).await.status(), StatusCode::UNAUTHORIZED, "expired");
    let payload = first.access_token.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_eq!(api.get("/api/v1/me", &none).await.status(), StatusCode::UNAUTHORIZED, "alg none");
    let stranger = TokenSigner::generate(Duration::from_secs(60)).issue_for(
        API_TOKEN_AUDIENCE,
        Duration::from_secs(60),
        me.id,
        &name,
    );
    assert_eq!(api.get("/api/v1/me", &stranger).await.status(), StatusCode::UNAUTHORIZED, "unknown key");

    // The message-host token from the API works on the message host.
    assert!(matches!(connect(&stack.message_urls[0], Some(&ws.token), None).await, Connect::Open(_)));

    // Refresh rotates; using an old refresh token again revokes the whole login.
    let refreshed = api.refresh(&first.refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let second: TokenPair = refreshed.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let third: TokenPair = api.refresh(&second.refresh_token).await.json().await.unwrap();
    assert_eq!(api.refresh(&first.refresh_token).await.status(), StatusCode::UNAUTHORIZED, "reuse refused");
    assert_eq!(api.refresh(&third.refresh_token).await.status(), StatusCode::UNAUTHORIZED, "family revoked");

    // Logout revokes the login's refresh tokens.
    let again: TokenPair = api
        .post("/api/v1/auth/login", json!({"username": name, "password": "correct horse battery"}))
        .await
        .json()
        .await
        .unwrap();
    let out = api.post("/api/v1/auth/logout", json!({"refresh_token": again.refresh_token})).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.refresh(&again.refresh_token).await.status(), StatusCode::UNAUTHORIZED, "logged out");

    // Throttling applies to the API too, with Retry-After.
    for _ in 0..5 {
        api.post("/api/v1/auth/login", json!({"username": name, "password": "nope"})).await;
    }
    let throttled =
        api.post("/api/v1/auth/login", json!({"username": name, "password": "correct horse battery"})).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = throttled.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 900);
}

//! What an API client does: sign up (through the form), log in over REST and call `/api/v1` with a
//! bearer token.

use std::time::Duration;

use natter_proto::http::{Me, TokenPair};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client::Browser;

/// A member with an access token.
#[derive(Clone)]
pub struct Member {
    pub id: i64,
    pub username: String,
    pub token: String,
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(web_url: &str) -> Self {
        // Idle connections are dropped before the server's 5 s keep-alive closes them (a reused
        // connection the server is closing fails with `IncompleteMessage`).
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        Self { base: web_url.to_owned(), http }
    }

    /// Signs up `prefix_<unique>` and logs in over REST.
    pub async fn member(&self, prefix: &str) -> Member {
        let username = format!("{prefix}_{}", natter_test_support::unique_suffix());
        let password = "correct horse battery".to_owned();
        Browser::new(&self.base).sign_up(&username, &password).await;
        let login = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        let pair: TokenPair = login.json().await.unwrap();
        let me: Me = self.call(Method::GET, "/api/v1/me", Some(&pair.access_token), None).await.1.into_me();
        Member { id: me.id, username, token: pair.access_token }
    }

    /// Calls the API; `token` `None` is an anonymous call. Returns the status and the JSON body
    /// (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Body) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, Body(value))
    }

    /// A call that must answer `expected`; returns the body.
    pub async fn expect(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        who: &Member,
        body: Option<Value>,
    ) -> Value {
        let (status, answer) = self.call(method.clone(), path, Some(&who.token), body).await;
        assert_eq!(status, expected, "{method} {path} as {}: {:?}", who.username, answer.0);
        answer.0
    }

    pub async fn create_room(
        &self,
        owner: &Member,
        name: &str,
        visibility: &str,
        capacity: Option<u32>,
    ) -> i64 {
        let mut body = json!({"name": name, "visibility": visibility});
        if let Some(capacity) = capacity {
            body["capacity"] = json!(capacity);
        }
        self.expect(StatusCode::CREATED, Method::POST, "/api/v1/rooms", owner, Some(body)).await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn join(&self, room: i64, who: &Member) {
        self.expect(StatusCode::OK, Method::POST, &format!("/api/v1/rooms/{room}/join"), who, None).await;
    }

    pub async fn set_role(&self, room: i64, by: &Member, target: &Member, role: &str) {
        let path = format!("/api/v1/rooms/{room}/members/{}/role", target.id);
        self.expect(StatusCode::NO_CONTENT, Method::PUT, &path, by, Some(json!({"role": role}))).await;
    }

    pub async fn ws_token(&self, who: &Member) -> String {
        self.expect(StatusCode::OK, Method::GET, "/api/v1/ws-token", who, None).await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub struct Body(pub Value);

impl Body {
    fn into_me(self) -> Me {
        serde_json::from_value(self.0).unwrap()
    }
}

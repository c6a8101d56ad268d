//! Calls to another service's internal endpoints.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why an internal call failed.
#[derive(Debug, thiserror::Error)]
pub enum InternalCallError {
    #[error("{service} unreachable: {source}")]
    Unreachable { service: &'static str, source: reqwest::Error },
    #[error("{service} answered {status}")]
    Status { service: &'static str, status: reqwest::StatusCode },
}

/// A client for one service's internal API, authenticated with the shared internal token.
#[derive(Clone)]
pub struct InternalClient {
    service: &'static str,
    base_url: String,
    token: SecretString,
    http: reqwest::Client,
}

impl InternalClient {
    /// `service` names the callee in errors and logs.
    pub fn new(service: &'static str, base_url: &str, token: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            // Below the services' keep-alive (actix-web closes idle connections after 5 s): reusing a
            // connection the server is closing fails the request (hyper `IncompleteMessage`).
            .pool_idle_timeout(Duration::from_secs(4))
            .build()
            .expect("HTTP client configuration is valid");
        Self { service, base_url: base_url.trim_end_matches('/').to_owned(), token, http }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(self.token.expose_secret());
        // The callee's request span joins the caller's trace.
        for (name, value) in natter_runtime::trace_context::current_headers() {
            request = request.header(name, value);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, InternalCallError> {
        let response = request
            .send()
            .await
            .map_err(|source| InternalCallError::Unreachable { service: self.service, source })?;
        if !response.status().is_success() {
            return Err(InternalCallError::Status { service: self.service, status: response.status() });
        }
        Ok(response)
    }

    /// `GET path`, decoding JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, InternalCallError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        response
            .json()
            .await
            .map_err(|source| InternalCallError::Unreachable { service: self.service, source })
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), InternalCallError> {
        self.send(self.request(reqwest::Method::PUT, path).json(body)).await.map(|_| ())
    }

    /// `PUT path` with a JSON body, decoding the JSON answer.
    pub async fn put_json_answer<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, InternalCallError> {
        let response = self.send(self.request(reqwest::Method::PUT, path).json(body)).await?;
        response
            .json()
            .await
            .map_err(|source| InternalCallError::Unreachable { service: self.service, source })
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<(), InternalCallError> {
        self.send(self.request(reqwest::Method::DELETE, path)).await.map(|_| ())
    }
}

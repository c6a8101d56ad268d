//! Service-to-service authentication: internal endpoints require `Authorization: Bearer <token>` with
//! the shared `NATTER_INTERNAL_TOKEN`, compared in constant time. A user's session or message token
//! never opens them.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use secrecy::{ExposeSecret, SecretString};

use crate::ApiError;

/// The shared secret of internal endpoints, as app data.
#[derive(Clone)]
pub struct InternalToken(pub SecretString);

impl InternalToken {
    fn matches(&self, presented: &str) -> bool {
        constant_time_eq::constant_time_eq(self.0.expose_secret().as_bytes(), presented.as_bytes())
    }
}

/// Middleware (`actix_web::middleware::from_fn`) for scopes of internal endpoints.
pub async fn require_internal_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let token = req.app_data::<web::Data<InternalToken>>().cloned();
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (token, presented) {
        (Some(token), Some(presented)) if token.matches(presented) => {
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        _ => {
            let response =
                ApiError::unauthorized("internal endpoint: service credentials required").error_response();
            Ok(req.into_response(response))
        }
    }
}

//! Pieces every service's generated OpenAPI document shares.

use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

/// The credentials the operations name in `security`.
pub struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |format: &str, description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.bearer_format = Some(format.to_owned());
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(
            "accessToken",
            bearer(
                "JWT (EdDSA, aud natter-api)",
                "from /api/v1/auth/login; valid NATTER_ACCESS_TOKEN_TTL_SECS",
            ),
        );
        components.add_security_scheme(
            "internal",
            bearer("opaque", "the shared NATTER_INTERNAL_TOKEN of the services"),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "natter_session",
                "the login session; form posts also carry its CSRF token in the `csrf` field",
            ))),
        );
    }
}

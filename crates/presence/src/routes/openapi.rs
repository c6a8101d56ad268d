//! The OpenAPI document of presence's HTTP endpoints, generated from the handlers' annotations
//! (committed as `proto/presence.openapi.json`; a test in the `natter` crate keeps it current).

use natter_http::openapi::SecuritySchemes;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Natter presence (internal)",
        description = "Who is online, on how many devices, and in which room. Called by message pods and \
            web with `Authorization: Bearer <NATTER_INTERNAL_TOKEN>`. Generated from the code."
    ),
    paths(
        super::connections::heartbeat, super::query::presence, super::query::room_present, super::query::room_call,
        natter_http::healthz, super::ready::readyz, natter_http::metrics,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "presence", description = "Connections reported by message pods, and presence queries"),
        (name = "operations", description = "Health and readiness"),
    ),
)]
struct PresenceApi;

/// Presence's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    PresenceApi::openapi()
}

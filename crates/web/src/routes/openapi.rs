//! The OpenAPI document of web's HTTP endpoints, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types of `natter-proto`, so it cannot drift from the code. Web serves it at
//! `GET /api/v1/openapi.json`; `proto/openapi.json` is the same document merged with presence's and
//! message's (a test in the `natter` crate keeps the committed file equal to the generated one).

use std::sync::LazyLock;

use actix_web::HttpResponse;
use natter_http::openapi::SecuritySchemes;
use utoipa::OpenApi;

use super::api::{
    auth as api_auth, calls as api_calls, me as api_me, push as api_push, rooms as api_rooms,
    search as api_search,
};
use super::internal::rooms as internal;
use super::pages::{
    accounts, avatars, manage as room_manage, room as room_pages, rooms, search as search_page, settings,
    static_files,
};
use super::{files, keys, ready};
use crate::oauth::flow as oauth;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Natter HTTP APIs",
        description = "HTTP endpoints of web, presence and message pods. Errors use \
            `{\"errors\":[{\"detail\":\"...\"}]}` (`ErrorBody`, example in proto/examples/http/error.json) under \
            `/api` and `/internal`; pages answer errors with an HTML page. Internal endpoints need \
            `Authorization: Bearer <NATTER_INTERNAL_TOKEN>`. Generated from the code: do not edit \
            proto/openapi.json by hand (see README, \"The HTTP contract\")."
    ),
    paths(
        api_auth::api_login, api_auth::api_refresh, api_auth::api_logout, api_me::api_me, api_me::api_ws_token, api_search::search_messages,
        api_calls::ice_servers, api_push::key, api_push::subscribe, api_push::unsubscribe, api_push::set_notify,
        api_rooms::search, api_rooms::create, api_rooms::show, api_rooms::update, api_rooms::delete,
        api_rooms::archive, api_rooms::unarchive, api_rooms::transfer, api_rooms::join, api_rooms::leave,
        api_rooms::members, api_rooms::set_role, api_rooms::kick, api_rooms::mute, api_rooms::unmute,
        api_rooms::ban, api_rooms::unban, api_rooms::invite, api_rooms::create_link, api_rooms::links,
        api_rooms::revoke_link, api_rooms::audit, api_rooms::mark_read, api_rooms::messages, api_rooms::whispers, api_rooms::report, api_rooms::reports,
        super::api::friends::list, super::api::friends::request, super::api::friends::accept, super::api::friends::withdraw, super::api::friends::unfriend, super::api::friends::privacy,
        api_rooms::accept_invite, api_rooms::my_rooms, api_rooms::start_direct, api_rooms::block,
        api_rooms::unblock, files::api_upload, openapi_json,
        accounts::home, accounts::sign_up, accounts::log_in, accounts::log_out, keys::ws_token,
        keys::api_token, rooms::rooms_page, rooms::create_room, rooms::join_room, rooms::start_direct,
        rooms::accept_invite, rooms::set_block, room_pages::room_page, room_pages::history_page,
        room_pages::leave_room, room_pages::mark_read, files::page_upload, files::file_content,
        files::file_thumbnail, room_manage::manage_page, room_manage::manage_action, settings::settings_page, search_page::search_page,
        settings::update_profile, super::pages::friends::friends_page, super::pages::friends::friends_action, settings::log_out_others, avatars::upload_avatar, avatars::avatar,
        static_files::static_file, static_files::service_worker, oauth::oauth_login, oauth::oauth_link, oauth::oauth_callback,
        natter_http::healthz, natter_http::metrics, internal::room_access, internal::mark_read, internal::member_rooms, internal::mentions, internal::whisper_target, files::attach, ready::readyz,
        keys::jwks,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "REST login: access and refresh tokens"),
        (name = "rooms", description = "Community and direct rooms, members, moderation, history"),
        (name = "files", description = "Files shared in rooms"),
        (name = "search", description = "Messages the caller may read, found by their words"),
        (name = "push", description = "Web Push subscriptions and what each room notifies of"),
        (name = "calls", description = "Voice and video calls: ICE servers"),
        (name = "friends", description = "Friend requests, friends and who may start a direct chat"),
        (name = "pages", description = "Server-rendered pages and their form posts (session cookie, CSRF token)"),
        (name = "internal", description = "Between services (the shared internal token)"),
        (name = "operations", description = "Health, readiness, keys"),
    ),
)]
pub struct WebApi;

/// Web's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    WebApi::openapi()
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "the OpenAPI 3.1 document of web", content_type = "application/json")), tag = "operations")]
pub(crate) async fn openapi_json() -> HttpResponse {
    static JSON: LazyLock<String> =
        LazyLock::new(|| document().to_json().expect("the OpenAPI document serialises"));
    HttpResponse::Ok().content_type("application/json").body(JSON.as_str())
}

//! Web endpoints: pages and form posts, the token hand-off, JWKS, and the internal API.

mod accounts;
mod api_auth;
mod api_me;
pub(crate) mod api_rooms;
mod avatars;
mod files;
mod internal;
mod keys;
pub(crate) mod openapi;
mod ready;
mod room_manage;
mod room_pages;
pub(crate) mod rooms;
mod settings;
mod static_files;

pub(crate) use accounts::{home, log_in, log_out, sign_up};
pub(crate) use api_auth::{api_login, api_logout, api_refresh};
pub(crate) use api_me::{api_me, api_ws_token};
pub(crate) use avatars::{avatar, upload_avatar};
pub(crate) use files::{
    api_upload, attach as internal_attach_file, file_content, file_thumbnail, page_upload,
};
pub(crate) use internal::{mark_read as internal_mark_read, member_rooms, room_access};
pub(crate) use keys::{api_token, jwks, ws_token};
pub(crate) use openapi::openapi_json;
pub(crate) use ready::readyz;
pub(crate) use room_manage::{manage_action, manage_page};
pub(crate) use room_pages::{history_page, leave_room, mark_read, room_page};
pub(crate) use rooms::{accept_invite, create_room, join_room, rooms_page, set_block, start_direct};
pub(crate) use settings::{log_out_others, settings_page, update_profile};
pub(crate) use static_files::static_file;

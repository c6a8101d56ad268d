//! Web endpoints, by who calls them: `api/` (REST, access tokens), `pages/` (browsers: pages and their
//! form posts, session cookie and CSRF token), `internal/` (other services, the internal token). Files
//! serve all three from one module; `keys` hands tokens to pages and publishes the keys that check them.

pub(crate) mod api;
mod files;
pub(crate) mod internal;
mod keys;
pub(crate) mod openapi;
pub(crate) mod pages;
mod ready;

pub(crate) use files::{
    api_upload, attach as internal_attach_file, file_content, file_thumbnail, page_upload,
};
pub(crate) use keys::{api_token, jwks, ws_token};
pub(crate) use openapi::openapi_json;
pub(crate) use ready::readyz;

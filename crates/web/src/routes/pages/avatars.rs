//! Avatars people upload in Settings: the picture's centred square, scaled to 128×128 PNG
//! (`files::thumbnail::avatar`), stored with the files under `avatars/` and served to logged-in
//! members at `/avatars/{member}-{millis}.png`. Each upload gets a new name, so a name never changes
//! content and browsers may keep it for good; the previous picture is deleted.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::{StreamExt, TryStreamExt};
use natter_db::members;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::files::thumbnail;
use crate::page_format::see_other;

/// The largest picture accepted for an avatar, bytes.
const AVATAR_MAX_BYTES: usize = 5 * 1024 * 1024;
const CSRF_FIELD_MAX: usize = 256;

fn refused(status: StatusCode, detail: impl Into<String>) -> PageError {
    PageError::Status(status, detail.into())
}

/// The storage key of an avatar name, when it is one (`{member}-{millis}.png`).
fn key_of(name: &str) -> Option<Path> {
    let stem = name.strip_suffix(".png")?;
    let (member, millis) = stem.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(member) && digits(millis)).then(|| Path::from(format!("avatars/{name}")))
}

/// Whether `url` is an avatar `member` uploaded (what the profile form sends back unchanged).
pub(crate) fn is_uploaded_by(url: &str, member: i64) -> bool {
    url.strip_prefix("/avatars/")
        .is_some_and(|name| key_of(name).is_some() && name.starts_with(&format!("{member}-")))
}

/// Reads a whole multipart field of at most `limit` bytes.
async fn read_field(field: actix_multipart::Field, limit: usize, what: &str) -> Result<Vec<u8>, PageError> {
    let mut body = Vec::new();
    let mut chunks = field;
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|e| refused(StatusCode::BAD_REQUEST, format!("The upload ended early: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The {what} is too large: at most {} MiB.", limit / (1024 * 1024))
                    .replace(" 0 MiB", " a few bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The multipart body of an avatar upload (described for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct AvatarUpload {
    /// The session's CSRF token; comes first.
    csrf: String,
    /// A PNG, JPEG, GIF or WebP picture.
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
}

/// `POST /settings/avatar`: a `multipart/form-data` form with `csrf`, then `avatar` (the picture).
#[utoipa::path(post, path = "/settings/avatar", request_body(content = AvatarUpload, content_type = "multipart/form-data"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 422, description = "the content is not acceptable (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn upload_avatar(
    state: web::Data<State>,
    mut multipart: Multipart,
    SignedIn { member_id, session }: SignedIn,
) -> Result<HttpResponse, PageError> {
    let mut checked = false;
    let mut picture = None;
    while let Some(field) = multipart
        .try_next()
        .await
        .map_err(|e| refused(StatusCode::BAD_REQUEST, format!("Not a file upload: {e}")))?
    {
        match (field.name(), checked) {
            (Some("csrf"), false) => {
                let token = read_field(field, CSRF_FIELD_MAX, "form token").await?;
                auth::check_csrf(&session, &String::from_utf8_lossy(&token))?;
                checked = true;
            }
            (Some("avatar"), true) => picture = Some(read_field(field, AVATAR_MAX_BYTES, "picture").await?),
            _ => {
                return Err(refused(StatusCode::BAD_REQUEST, "Send the form token first, then the picture."));
            }
        }
    }
    let picture = picture
        .filter(|p| !p.is_empty())
        .ok_or_else(|| refused(StatusCode::BAD_REQUEST, "Choose a picture to upload."))?;
    let max_pixels = state.file_limits.max_image_pixels;
    let png = web::block(move || thumbnail::avatar(&picture, max_pixels))
        .await
        .map_err(PageError::internal)?
        .map_err(|e| {
            refused(StatusCode::UNPROCESSABLE_ENTITY, format!("That picture cannot be used: {e}."))
        })?;

    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let name = format!("{member_id}-{}.png", chrono::Utc::now().timestamp_millis());
    let key = key_of(&name).expect("names made here are avatar names");
    state.files.put(&key, png.into()).await.map_err(PageError::unavailable)?;
    let url = format!("/avatars/{name}");
    members::update_profile(&mut state.db.conn().await?, member_id, &member.display_name, Some(&url)).await?;
    if let Some(previous) =
        member.avatar_url.as_deref().and_then(|u| u.strip_prefix("/avatars/")).and_then(key_of)
        && let Err(e) = state.files.delete(&previous).await
    {
        tracing::warn!(error = %e, "the previous avatar was not deleted");
    }
    tracing::info!(member.id = member_id, "avatar uploaded");
    Ok(see_other("/settings?saved=1"))
}

/// `GET /avatars/{name}`: an uploaded avatar, for logged-in members.
#[utoipa::path(get, path = "/avatars/{name}", params(("name" = String, Path, description = "`{member}-{ms}.png`")), responses((status = 200, description = "OK", content_type = "image/png"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn avatar(
    state: web::Data<State>,
    name: web::Path<String>,
    _: SignedIn,
) -> Result<HttpResponse, PageError> {
    let key = key_of(&name).ok_or_else(|| PageError::not_found("No such picture."))?;
    let stored = match state.files.get(&key).await {
        Ok(stored) => stored,
        Err(object_store::Error::NotFound { .. }) => return Err(PageError::not_found("No such picture.")),
        Err(e) => return Err(PageError::unavailable(e)),
    };
    let png = stored.bytes().await.map_err(PageError::unavailable)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=31536000, immutable"))
        .body(png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_avatar_names_reach_storage() {
        assert_eq!(key_of("7-1764590000000.png"), Some(Path::from("avatars/7-1764590000000.png")));
        for bad in
            ["../7-1.png", "7-1.png/../x", "7.png", "a-1.png", "7-1.jpg", "-1.png", "7-.png", "rooms/1/x"]
        {
            assert_eq!(key_of(bad), None, "{bad}");
        }
        assert!(is_uploaded_by("/avatars/7-1764590000000.png", 7));
        assert!(!is_uploaded_by("/avatars/8-1764590000000.png", 7), "someone else's");
        assert!(!is_uploaded_by("https://example.com/avatars/7-1.png", 7));
    }
}

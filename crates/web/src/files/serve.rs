//! Downloading a file or its thumbnail: membership of the file's room is checked on every request,
//! and the answer is built so that no uploaded content can run script on web's origin.

use actix_web::HttpResponse;
use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use futures_util::TryStreamExt;
use natter_db::{RoomFile, files};
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::{names, storage};
use crate::app::State;

/// Types shown in the page (`inline`); everything else downloads (`attachment`).
const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Why a download is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DownloadError {
    #[error("No such file.")]
    NotFound,
    #[error("Only members of the file's room may download it.")]
    Forbidden,
    #[error("The file store is unavailable; try again soon.")]
    Unavailable,
}

impl DownloadError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            DownloadError::NotFound => StatusCode::NOT_FOUND,
            DownloadError::Forbidden => StatusCode::FORBIDDEN,
            DownloadError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "file download failed on our side");
        DownloadError::Unavailable
    }
}

/// Which part of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Content,
    Thumbnail,
}

/// The file `id` for `member`, if they are in its room now.
async fn readable(state: &State, id: &str, member: i64) -> Result<RoomFile, DownloadError> {
    let mut conn = state.db.conn().await.map_err(DownloadError::unavailable)?;
    let file = files::by_id(&mut conn, id).await.map_err(DownloadError::unavailable)?;
    drop(conn);
    let file = file.ok_or(DownloadError::NotFound)?;
    let access = crate::rooms::room_access(&state.rules(), file.room_id, member)
        .await
        .map_err(DownloadError::unavailable)?;
    if !access.may_read() {
        return Err(DownloadError::Forbidden);
    }
    Ok(file)
}

/// The answer to a download of `part` of file `id` by `member`.
pub(crate) async fn download(
    state: &State,
    id: &str,
    member: i64,
    part: Part,
) -> Result<HttpResponse, DownloadError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(DownloadError::NotFound);
    }
    let file = readable(state, id, member).await?;
    let (key, content_type, disposition) = match part {
        Part::Content => {
            let kind =
                if INLINE_TYPES.contains(&file.content_type.as_str()) { "inline" } else { "attachment" };
            let content_type = if file.content_type == "text/plain" {
                "text/plain; charset=utf-8".to_owned()
            } else {
                file.content_type.clone()
            };
            (
                Path::from(file.storage_key.as_str()),
                content_type,
                names::content_disposition(kind, &file.name),
            )
        }
        Part::Thumbnail => {
            if file.thumb_width.is_none() {
                return Err(DownloadError::NotFound);
            }
            let name = format!("{}.thumbnail.png", file.name);
            (
                storage::thumbnail_key(&file.storage_key),
                "image/png".to_owned(),
                names::content_disposition("inline", &name),
            )
        }
    };
    let stored = match state.files.get(&key).await {
        Ok(stored) => stored,
        Err(object_store::Error::NotFound { .. }) => return Err(DownloadError::NotFound),
        Err(e) => return Err(DownloadError::unavailable(e)),
    };
    let size = stored.meta.size;
    let body = stored.into_stream().inspect_err(|e| {
        tracing::warn!(error = %e, "reading a stored file failed mid-way");
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", disposition))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // Even if a browser rendered it, the content runs no script and loads nothing.
        .insert_header(("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox"))
        // Membership can end at any time: caches must ask again.
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(SizedStream::new(size, body)))
}

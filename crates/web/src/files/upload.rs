//! Receiving an upload: who may, what type it is, storing it, its thumbnail, its record. Whatever
//! refuses the file leaves nothing behind in storage.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use natter_db::{RoomFile, files};
use natter_http::ApiError;
use natter_proto::events::{FileEvent, FileRef, FileUploaded};
use natter_proto::topics::{Topic, room_key};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::sniff::{self, SNIFF_BYTES};
use super::storage::{self, StoreError};
use super::thumbnail::{self, ImageRefusal};
use super::{file_ref, names};
use crate::app::State;
use crate::error::PageError;

/// The multipart field holding the file.
pub(crate) const FILE_FIELD: &str = "file";

/// What the upload limits are (see [`super::FileSettings`]).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_bytes: u64,
    pub(crate) allowed_types: Vec<String>,
    pub(crate) max_image_pixels: u64,
}

/// Why an upload was refused; each maps to an HTTP status and a sentence for the uploader.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{0}")]
    BadImage(String),
    #[error("the file store is unavailable; try again soon")]
    Unavailable,
}

impl UploadError {
    fn status(&self) -> StatusCode {
        match self {
            UploadError::Forbidden(_) => StatusCode::FORBIDDEN,
            UploadError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UploadError::BadImage(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "file upload failed on our side");
        UploadError::Unavailable
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        ApiError::new(e.status(), e.to_string())
    }
}

impl From<UploadError> for PageError {
    fn from(e: UploadError) -> Self {
        PageError::Status(e.status(), e.to_string())
    }
}

impl From<StoreError> for UploadError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge { .. } => UploadError::TooLarge(e.to_string()),
            StoreError::Truncated(_) => UploadError::BadRequest(e.to_string()),
            StoreError::Storage(e) => UploadError::unavailable(e),
        }
    }
}

/// Receives the file of `multipart` for `member` in `room`; what a message sharing it will carry.
pub(crate) async fn receive(
    state: &State,
    member: i64,
    room: i64,
    mut multipart: Multipart,
) -> Result<FileRef, UploadError> {
    let access =
        crate::rooms::room_access(&state.rules(), room, member).await.map_err(UploadError::unavailable)?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    access
        .may_post(now_ms)
        .map_err(|reason| UploadError::Forbidden(format!("You cannot share files here: {reason}.")))?;

    let field = match multipart.try_next().await {
        Ok(Some(field)) => field,
        Ok(None) => return Err(UploadError::BadRequest(format!("the form has no {FILE_FIELD:?} field"))),
        Err(e) => return Err(UploadError::BadRequest(format!("not a multipart/form-data upload: {e}"))),
    };
    if field.name() != Some(FILE_FIELD) {
        return Err(UploadError::BadRequest(format!(
            "expected the field {FILE_FIELD:?} first, found {:?}",
            field.name().unwrap_or_default()
        )));
    }
    let name = names::clean(field.content_disposition().and_then(|d| d.get_filename()).unwrap_or_default());
    // Fused: the sniffing below may read the whole (small) file, and a field must not be polled
    // after its end.
    let mut body = field.map_err(|e| e.to_string()).fuse();

    // Enough of the start to tell the type, before anything is stored.
    let mut head = BytesMut::new();
    while head.len() < SNIFF_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(UploadError::BadRequest(format!("the upload ended early: {e}"))),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(UploadError::BadRequest("the file is empty".to_owned()));
    }
    let content_type = sniff::content_type(&head);
    sniff::check(content_type, &name, &state.file_limits.allowed_types)
        .map_err(|refusal| UploadError::UnsupportedType(refusal.to_string()))?;

    let file_id = uuid::Uuid::now_v7();
    let storage_key = format!("rooms/{room}/{file_id}");
    let key = Path::from(storage_key.as_str());
    let store = Arc::clone(&state.files);
    let size = storage::put_streaming(store.as_ref(), &key, head.freeze(), body, state.file_limits.max_bytes)
        .await?;

    let thumbnail = match thumbnail::format_of(content_type) {
        Some(format) => {
            match thumbnail_of(store.as_ref(), &key, format, state.file_limits.max_image_pixels).await {
                Ok(made) => Some(made),
                Err(refusal) => {
                    forget(store.as_ref(), &storage_key).await;
                    return Err(refusal);
                }
            }
        }
        None => None,
    };
    let row = RoomFile {
        id: file_id.to_string(),
        room_id: room,
        uploader_id: member,
        name,
        content_type: content_type.to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        thumb_width: thumbnail.map(|(w, _)| i32::try_from(w).unwrap_or(i32::MAX)),
        thumb_height: thumbnail.map(|(_, h)| i32::try_from(h).unwrap_or(i32::MAX)),
        storage_key: storage_key.clone(),
        message_id: None,
        created_at: chrono::Utc::now().naive_utc(),
    };
    let created = match state.db.conn().await {
        Ok(mut conn) => files::create(&mut conn, &row).await,
        Err(e) => Err(e),
    };
    if let Err(e) = created {
        forget(store.as_ref(), &storage_key).await;
        return Err(UploadError::unavailable(e));
    }
    let file = file_ref(&row).expect("a file made here converts");
    announce(state, room, member, &file).await;
    metrics::counter!("natter_files_uploaded_total").increment(1);
    metrics::counter!("natter_files_uploaded_bytes_total").increment(size);
    Ok(file)
}

/// Makes and stores the thumbnail of the image at `key`; its size.
async fn thumbnail_of(
    store: &dyn ObjectStore,
    key: &Path,
    format: image::ImageFormat,
    max_pixels: u64,
) -> Result<(u32, u32), UploadError> {
    let bytes = store
        .get(key)
        .await
        .map_err(UploadError::unavailable)?
        .bytes()
        .await
        .map_err(UploadError::unavailable)?;
    let made = tokio::task::spawn_blocking(move || thumbnail::make(&bytes, format, max_pixels))
        .await
        .map_err(UploadError::unavailable)?
        .map_err(|refusal| match refusal {
            ImageRefusal::TooManyPixels { .. } | ImageRefusal::Unreadable(_) => {
                UploadError::BadImage(refusal.to_string())
            }
        })?;
    let thumb_key = storage::thumbnail_key(key.as_ref());
    store.put(&thumb_key, PutPayload::from(Bytes::from(made.png))).await.map_err(UploadError::unavailable)?;
    Ok((made.width, made.height))
}

/// Removes a file's content and thumbnail from storage (failures are logged; the janitor's sweep
/// finds nothing to remove them by, so they are loud).
pub(crate) async fn forget(store: &dyn ObjectStore, storage_key: &str) {
    for key in [Path::from(storage_key), storage::thumbnail_key(storage_key)] {
        if let Err(e) = storage::delete(store, &key).await {
            tracing::error!(error = %e, key = %key, "could not remove a stored file");
        }
    }
}

/// Tells the files topic (best effort: nothing in Natter waits for it).
async fn announce(state: &State, room: i64, member: i64, file: &FileRef) {
    let event = FileEvent::Uploaded(FileUploaded { room_id: room, uploader_id: member, file: file.clone() });
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Files.name(&state.topic_prefix);
    if let Err(e) = state.bus.publish(&topic, &room_key(room), payload).await {
        tracing::warn!(error = %e, room.id = room, "file upload event not published");
    }
}

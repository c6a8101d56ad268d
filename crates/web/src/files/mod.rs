//! Files in chat: upload, store, share as messages, download with authorization.
//!
//! How a file becomes a message (the same two steps as Matrix's media repository or Slack's
//! `files.upload` + `chat.postMessage`):
//! 1. The member uploads it to web (`POST /api/v1/rooms/{room}/files`, or the room page), which
//!    checks they may post there, streams it to object storage in parts while sniffing its type from
//!    the first bytes, makes a thumbnail of images, and records who uploaded what where.
//! 2. The member publishes it over the WebSocket (`publish` with `file`). The message pod asks web to
//!    attach the file to the message, then publishes the message on the room's message topic. So a
//!    file message is ordered, resumed, deduplicated and stored in history exactly like a text
//!    message: it *is* one, with a [`natter_proto::events::FileRef`] in it.
//!
//! Downloads check membership of the file's room on every request. Deleting a file message publishes
//! a `removed` file event, on which web's janitors delete the content; uploads never shared and files
//! of deleted rooms are swept after [`FileSettings::unshared_ttl`].

pub(crate) mod janitor;
pub(crate) mod names;
pub(crate) mod serve;
pub(crate) mod settings;
pub(crate) mod sniff;
pub mod storage;
pub(crate) mod thumbnail;
pub(crate) mod upload;

use natter_db::RoomFile;
use natter_proto::events::{FileRef, Thumbnail};

pub use settings::{FileSettings, StoreSettings};

/// What a file message carries of a stored file.
pub(crate) fn file_ref(file: &RoomFile) -> Option<FileRef> {
    let thumbnail = match (file.thumb_width, file.thumb_height) {
        (Some(w), Some(h)) => {
            Some(Thumbnail { width: u32::try_from(w).ok()?, height: u32::try_from(h).ok()? })
        }
        _ => None,
    };
    Some(FileRef {
        file_id: file.id.parse().ok()?,
        name: file.name.clone(),
        size: file.size,
        content_type: file.content_type.clone(),
        thumbnail,
    })
}

//! Writing an upload to object storage as it arrives: never more than a part (5 MiB, S3's smallest)
//! or two in memory, checked against the size limit as it goes, and aborted (nothing left behind) when
//! the limit is passed or the client stops sending.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

/// Parts uploaded at once per upload.
const PARTS_IN_FLIGHT: usize = 2;

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload ended early: {0}")]
    Truncated(String),
    #[error("the file store failed: {0}")]
    Storage(#[from] object_store::Error),
}

/// Stores `head` followed by the rest of `body` at `key`, at most `limit` bytes in all; the size.
pub async fn put_streaming<S, E>(
    store: &dyn ObjectStore,
    key: &Path,
    head: Bytes,
    mut body: S,
    limit: u64,
) -> Result<u64, StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut size = head.len() as u64;
    if size > limit {
        return Err(StoreError::TooLarge { limit });
    }
    let mut upload = WriteMultipart::new(store.put_multipart(key).await?);
    upload.put(head);
    let failure = loop {
        match body.next().await {
            None => break None,
            Some(Err(e)) => break Some(StoreError::Truncated(e.to_string())),
            Some(Ok(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    break Some(StoreError::TooLarge { limit });
                }
                upload.put(chunk);
                if let Err(e) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    break Some(StoreError::Storage(e));
                }
            }
        }
    };
    match failure {
        None => {
            upload.finish().await?;
            Ok(size)
        }
        Some(failure) => {
            if let Err(e) = upload.abort().await {
                tracing::warn!(error = %e, "aborting an upload failed; the store may keep its parts");
            }
            Err(failure)
        }
    }
}

/// Deletes `key`; a key already gone is fine.
pub async fn delete(store: &dyn ObjectStore, key: &Path) -> Result<(), object_store::Error> {
    match store.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The key of a file's thumbnail.
pub fn thumbnail_key(storage_key: &str) -> Path {
    Path::from(format!("{storage_key}.thumb"))
}

//! The file store contract, run against a local directory (standalone mode's store) and an
//! S3-compatible object store (moto's server, see `scripts/services`): uploads are streamed in parts,
//! and an upload refused for its size or cut short leaves nothing behind.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{TryStreamExt, stream};
use natter_web::StoreSettings;
use natter_web::files::storage::{StoreError, delete, put_streaming};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

const MIB: usize = 1024 * 1024;

fn local() -> Arc<dyn ObjectStore> {
    let dir =
        std::env::temp_dir().join(format!("natter-files-test-{}", natter_test_support::unique_suffix()));
    StoreSettings::Local { dir: dir.display().to_string() }.open().expect("local store")
}

async fn s3() -> Arc<dyn ObjectStore> {
    natter_runtime::install_tls_provider();
    StoreSettings::S3 {
        bucket: natter_test_support::fresh_s3_bucket().await,
        endpoint: Some(natter_test_support::s3_endpoint()),
        region: "us-east-1".to_owned(),
        access_key_id: "natter-test".to_owned(),
        secret_access_key: "natter-test-secret".to_owned().into(),
    }
    .open()
    .expect("S3 store")
}

/// `chunks` chunks of `size` bytes each, then (when `fail`) a broken connection.
fn body(
    chunks: usize,
    size: usize,
    fail: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin {
    let good = (0..chunks).map(move |i| Ok(Bytes::from(vec![i as u8; size])));
    let bad = fail.then(|| Err("connection reset".to_owned()));
    stream::iter(good.chain(bad))
}

async fn keys(store: &dyn ObjectStore) -> Vec<String> {
    store.list(None).map_ok(|meta| meta.location.to_string()).try_collect().await.expect("list")
}

async fn a_streamed_upload_is_stored_whole(store: Arc<dyn ObjectStore>) {
    let key = Path::from("rooms/1/big");
    // 12 MiB in 1 MiB chunks: three parts of a multipart upload.
    let size = put_streaming(
        store.as_ref(),
        &key,
        Bytes::from_static(b"head"),
        body(12, MIB, false),
        64 * MIB as u64,
    )
    .await
    .expect("stored");
    assert_eq!(size, 4 + 12 * MIB as u64);
    let stored = store.get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.len() as u64, size);
    assert_eq!(&stored[..4], b"head");
    assert_eq!(stored[4 + 5 * MIB], 5, "chunks in order");
    assert_eq!(keys(store.as_ref()).await, ["rooms/1/big"]);

    delete(store.as_ref(), &key).await.expect("deleted");
    assert!(keys(store.as_ref()).await.is_empty());
    delete(store.as_ref(), &key).await.expect("deleting again is fine");
}

async fn an_oversized_upload_leaves_nothing(store: Arc<dyn ObjectStore>) {
    let key = Path::from("rooms/1/huge");
    let refused =
        put_streaming(store.as_ref(), &key, Bytes::from_static(b"x"), body(8, MIB, false), 6 * MIB as u64)
            .await;
    assert!(matches!(refused, Err(StoreError::TooLarge { limit }) if limit == 6 * MIB as u64), "{refused:?}");
    assert!(keys(store.as_ref()).await.is_empty(), "nothing stored");
    assert!(store.get(&key).await.is_err());
}

async fn a_truncated_upload_leaves_nothing(store: Arc<dyn ObjectStore>) {
    let key = Path::from("rooms/1/cut");
    let refused =
        put_streaming(store.as_ref(), &key, Bytes::from_static(b"x"), body(7, MIB, true), 64 * MIB as u64)
            .await;
    assert!(matches!(refused, Err(StoreError::Truncated(ref why)) if why.contains("reset")), "{refused:?}");
    assert!(keys(store.as_ref()).await.is_empty(), "nothing stored");
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_local_directory {
            $(#[tokio::test]
            async fn $case() { super::$case(super::local()).await })*
        }
        mod on_s3 {
            $(#[tokio::test]
            async fn $case() { super::$case(super::s3().await).await })*
        }
    };
}

contract!(
    a_streamed_upload_is_stored_whole,
    an_oversized_upload_leaves_nothing,
    a_truncated_upload_leaves_nothing
);

//! File settings, from the environment (see the README's configuration table).

use std::sync::Arc;
use std::time::Duration;

use natter_runtime::env::{Env, EnvError};
use object_store::ObjectStore;
use secrecy::{ExposeSecret, SecretString};

/// Where file contents are kept.
#[derive(Debug)]
pub enum StoreSettings {
    /// A local directory (standalone mode; one web pod, or a volume all pods share).
    Local { dir: String },
    /// An S3-compatible object store.
    S3 {
        bucket: String,
        /// Empty: AWS itself.
        endpoint: Option<String>,
        region: String,
        access_key_id: String,
        secret_access_key: SecretString,
    },
}

#[derive(Debug)]
pub struct FileSettings {
    pub store: StoreSettings,
    /// Largest upload, bytes.
    pub max_bytes: u64,
    /// Types (as sniffed from the content) that may be uploaded.
    pub allowed_types: Vec<String>,
    /// Images with more pixels are refused (a small compressed file can claim a huge image).
    pub max_image_pixels: u64,
    /// Uploads not shared in a message by then are removed, as are files of deleted rooms.
    pub unshared_ttl: Duration,
}

/// The default allow-list: pictures, PDFs, plain text and zip archives.
pub const DEFAULT_ALLOWED_TYPES: &str =
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,application/zip";

impl FileSettings {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let store = match env.or("NATTER_FILES_STORE", "local").as_str() {
            "local" => StoreSettings::Local { dir: env.or("NATTER_FILES_DIR", "natter-files") },
            "s3" => StoreSettings::S3 {
                bucket: env.required("NATTER_S3_BUCKET", "the bucket files are kept in")?,
                endpoint: env.optional("NATTER_S3_ENDPOINT").filter(|e| !e.is_empty()),
                region: env.or("NATTER_S3_REGION", "us-east-1"),
                access_key_id: env.required("NATTER_S3_ACCESS_KEY_ID", "the store's access key id")?,
                secret_access_key: env.secret("NATTER_S3_SECRET_ACCESS_KEY", "the store's secret key")?,
            },
            other => {
                return Err(EnvError::Invalid {
                    name: "NATTER_FILES_STORE".into(),
                    reason: format!("{other:?} is not a store; expected \"local\" or \"s3\""),
                });
            }
        };
        let allowed_types: Vec<String> = env
            .or("NATTER_FILES_ALLOWED_TYPES", DEFAULT_ALLOWED_TYPES)
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(bad) = allowed_types.iter().find(|t| t.split('/').count() != 2) {
            return Err(EnvError::Invalid {
                name: "NATTER_FILES_ALLOWED_TYPES".into(),
                reason: format!("{bad:?} is not a media type like image/png"),
            });
        }
        Ok(Self {
            store,
            max_bytes: env.parse_range_or(
                "NATTER_FILES_MAX_BYTES",
                25 * 1024 * 1024,
                1..=5 * 1024 * 1024 * 1024,
            )?,
            allowed_types,
            max_image_pixels: env.parse_range_or(
                "NATTER_FILES_MAX_IMAGE_PIXELS",
                40_000_000,
                1..=1_000_000_000,
            )?,
            unshared_ttl: Duration::from_secs(env.parse_range_or(
                "NATTER_FILES_UNSHARED_TTL_SECS",
                3600,
                1..=30 * 86_400,
            )?),
        })
    }
}

impl StoreSettings {
    /// The store, ready to use (a local directory is created if missing).
    pub fn open(&self) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
        Ok(match self {
            StoreSettings::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| object_store::Error::Generic {
                    store: "local",
                    source: format!("creating {dir}: {e}").into(),
                })?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            StoreSettings::S3 { bucket, endpoint, region, access_key_id, secret_access_key } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key.expose_secret());
                if let Some(endpoint) = endpoint {
                    builder =
                        builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                Arc::new(builder.build()?)
            }
        })
    }
}

//! An operator's mistake in the environment stops a service at start-up with an error that names the
//! variable, and never echoes a secret's value.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::stack::natter;

/// Variables to set (`Some`) or remove (`None`).
type Changes<'a> = &'a [(&'a str, Option<&'a str>)];

/// Enough for every service to get past the settings it always needs.
fn base() -> Vec<(&'static str, String)> {
    vec![
        ("NATTER_INTERNAL_TOKEN", "internal-token-for-the-bad-config-test".into()),
        ("NATTER_SESSION_KEY", STANDARD.encode([7u8; 64])),
        ("NATTER_TOKEN_SIGNING_KEY", "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=".into()),
        ("NATTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres".into()),
        ("NATTER_REDIS_URL", "redis://127.0.0.1:6379".into()),
        ("NATTER_KAFKA_BROKERS", "127.0.0.1:9092".into()),
        ("NATTER_MONGODB_URL", "mongodb://127.0.0.1:27017".into()),
        ("NATTER_MIGRATE_ON_START", "false".into()),
    ]
}

/// Starts `service` with `base()` changed by `changes` (`None` removes a variable); it must exit
/// unsuccessfully. Its stderr.
async fn refused(service: &str, changes: Changes<'_>) -> String {
    let mut command = natter();
    command.arg(service).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in base() {
        if !changes.iter().any(|(changed, _)| *changed == name) {
            command.env(name, value);
        }
    }
    for (name, value) in changes {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    command.env("NATTER_WEB_BIND", "127.0.0.1:0").env("NATTER_MESSAGE_BIND", "127.0.0.1:0");
    command.env("NATTER_PRESENCE_BIND", "127.0.0.1:0");
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .unwrap_or_else(|_| panic!("{service} with {changes:?} did not stop"))
        .expect("natter runs");
    assert!(!output.status.success(), "{service} started with {changes:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_config_stops_start_up_naming_the_variable() {
    let cases: [(&str, Changes, &str); 6] = [
        ("web", &[("NATTER_DATABASE_POOL_SIZE", Some("lots"))], "NATTER_DATABASE_POOL_SIZE"),
        ("web", &[("NATTER_INTERNAL_TOKEN", None)], "NATTER_INTERNAL_TOKEN"),
        ("web", &[("NATTER_READ_PUSH_MS", Some("1"))], "NATTER_READ_PUSH_MS"),
        ("message", &[("NATTER_PRESENCE_HEARTBEAT_MS", Some("5"))], "NATTER_PRESENCE_HEARTBEAT_MS"),
        ("message", &[("NATTER_KAFKA_BROKERS", None)], "NATTER_KAFKA_BROKERS"),
        ("presence", &[("NATTER_PRESENCE_PUSH_MS", Some("0"))], "NATTER_PRESENCE_PUSH_MS"),
    ];
    for (service, changes, variable) in cases {
        let stderr = refused(service, changes).await;
        assert!(stderr.contains(variable), "{service} with {changes:?} must name {variable}:\n{stderr}");
    }
    // A malformed secret is named, its value never shown.
    let secret = "c2hvcnQtc2VjcmV0";
    let stderr = refused("web", &[("NATTER_TOKEN_SIGNING_KEY", Some(secret))]).await;
    assert!(stderr.contains("NATTER_TOKEN_SIGNING_KEY"), "{stderr}");
    assert!(!stderr.contains(secret), "the secret was printed:\n{stderr}");
}

//! `--standalone`: runs `natter standalone --port 0` as a child process and reads where it listens
//! from the line it prints (`natter standalone: web=... message=... presence=...`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the child may take to print its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The pod's publish rate limits (0 = unlimited), which standalone passes on from its environment.
pub const PUBLISH_LIMITS: [&str; 2] =
    ["NATTER_PUBLISH_RATE_PER_CONNECTION", "NATTER_PUBLISH_RATE_PER_MEMBER"];

/// A running standalone Natter; killed when dropped.
pub struct Standalone {
    child: Child,
    pub pid: u32,
    pub web_url: String,
    pub message_url: String,
}

/// The `natter` binary: the given one, else the one next to this executable, else `natter` on PATH.
fn natter_binary(given: Option<&Path>) -> PathBuf {
    if let Some(given) = given {
        return given.to_owned();
    }
    let sibling = std::env::current_exe().ok().and_then(|me| Some(me.parent()?.join("natter")));
    sibling.filter(|path| path.is_file()).unwrap_or_else(|| PathBuf::from("natter"))
}

/// Reads `web=` and `message=` from the announcement line.
fn parse_announcement(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("natter standalone:")?;
    let field =
        |name: &str| rest.split_whitespace().find_map(|part| part.strip_prefix(name)).map(str::to_owned);
    Some((field("web=")?, field("message=")?))
}

impl Standalone {
    /// Starts the child (its log goes to `log`, at `warn` unless `RUST_LOG` says otherwise) and waits
    /// for its addresses.
    pub async fn start(binary: Option<&Path>, log: &Path) -> anyhow::Result<Self> {
        let binary = natter_binary(binary);
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(&binary);
        command
            .args(["standalone", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        // A load test measures the pod, not its publish limits: off unless the caller set them.
        for name in PUBLISH_LIMITS {
            if std::env::var_os(name).is_none() {
                command.env(name, "0");
            }
        }
        let mut child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("the child has a pid")?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let announced = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(urls) = parse_announcement(&line) {
                    return Ok(urls);
                }
            }
            anyhow::bail!("natter standalone ended without printing its addresses (log: {})", log.display())
        })
        .await
        .context("natter standalone did not print its addresses in time")??;
        // Keep reading so that the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (web_url, message_url) = announced;
        Ok(Self { child, pid, web_url, message_url })
    }

    /// Stops the child.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_announcement() {
        let line = "natter standalone: web=http://127.0.0.1:1 message=ws://127.0.0.1:2 presence=http://x:3";
        let (web, message) = parse_announcement(line).unwrap();
        assert_eq!((web.as_str(), message.as_str()), ("http://127.0.0.1:1", "ws://127.0.0.1:2"));
        assert!(parse_announcement("Natter is running.").is_none());
    }
}

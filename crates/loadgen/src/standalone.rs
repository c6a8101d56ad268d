//! `--standalone` and `--bare`: runs `natter standalone --port 0` (or the bare baseline,
//! `natter-bare-fanout`) as a child process and reads where it listens from the line it prints
//! (`natter standalone: web=... message=... presence=...`, `natter bare: message=...`).

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

/// Which server the child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// `natter standalone`.
    Natter,
    /// `natter-bare-fanout`, the baseline.
    Bare,
}

impl Server {
    fn binary_name(self) -> &'static str {
        match self {
            Server::Natter => "natter",
            Server::Bare => "natter-bare-fanout",
        }
    }
}

/// The server's binary: the given one, else the one next to this executable, else the name on PATH.
fn server_binary(server: Server, given: Option<&Path>) -> PathBuf {
    if let Some(given) = given {
        return given.to_owned();
    }
    let name = server.binary_name();
    let sibling = std::env::current_exe().ok().and_then(|me| Some(me.parent()?.join(name)));
    sibling.filter(|path| path.is_file()).unwrap_or_else(|| PathBuf::from(name))
}

/// Reads `web=` (empty for the bare server) and `message=` from the announcement line.
fn parse_announcement(line: &str) -> Option<(String, String)> {
    let field = |rest: &str, name: &str| {
        rest.split_whitespace().find_map(|part| part.strip_prefix(name)).map(str::to_owned)
    };
    if let Some(rest) = line.strip_prefix("natter bare:") {
        return Some((String::new(), field(rest, "message=")?));
    }
    let rest = line.strip_prefix("natter standalone:")?;
    Some((field(rest, "web=")?, field(rest, "message=")?))
}

impl Standalone {
    /// Starts the child (its log goes to `log`, at `warn` unless `RUST_LOG` says otherwise), on
    /// `cpus` (a `taskset -c` list) when given, and waits for its addresses.
    pub async fn start(
        server: Server,
        binary: Option<&Path>,
        log: &Path,
        cpus: Option<&str>,
    ) -> anyhow::Result<Self> {
        let binary = server_binary(server, binary);
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = match cpus {
            Some(cpus) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", cpus]).arg(&binary);
                taskset
            }
            None => Command::new(&binary),
        };
        if server == Server::Natter {
            command.args(["standalone", "--port", "0"]);
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log_file).kill_on_drop(true);
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
            anyhow::bail!(
                "{} ended without printing its addresses (log: {})",
                binary.display(),
                log.display()
            )
        })
        .await
        .context("the server did not print its addresses in time")??;
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
        let (web, message) = parse_announcement("natter bare: message=ws://127.0.0.1:4").unwrap();
        assert_eq!((web.as_str(), message.as_str()), ("", "ws://127.0.0.1:4"));
    }
}

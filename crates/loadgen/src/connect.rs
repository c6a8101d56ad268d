//! Opening one WebSocket to a message pod from a chosen source address: a TCP socket bound to that
//! address, then the client handshake over it with the token in `Authorization: Bearer` (no `Origin`:
//! the pod judges non-browser clients by their token alone).

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A connection to the pod.
pub type Socket = WebSocketStream<TcpStream>;

/// Where the pod's WebSocket endpoint is.
#[derive(Debug, Clone)]
pub struct Target {
    /// `ws://host:port/ws`.
    pub url: String,
    pub address: SocketAddr,
}

impl Target {
    /// Resolves the pod's base URL (`ws://host:port`).
    pub async fn resolve(message_url: &str) -> anyhow::Result<Self> {
        let base = message_url.trim_end_matches('/');
        let authority =
            base.strip_prefix("ws://").context("--message must be a ws:// URL (TLS is not supported)")?;
        let address = tokio::net::lookup_host(authority)
            .await
            .with_context(|| format!("resolving {authority}"))?
            .find(SocketAddr::is_ipv4)
            .with_context(|| format!("{authority} has no IPv4 address"))?;
        Ok(Self { url: format!("{base}/ws"), address })
    }
}

/// Source ports handed out explicitly, per source address, from the kernel's ephemeral range: binding
/// port 0 makes the kernel search for a free port, which grows slow with tens of thousands of bound
/// sockets on one address. Staying inside the ephemeral range never takes a port a server on this
/// machine may want to listen on.
pub struct SourcePorts {
    range: (u32, u32),
    cursors: Vec<AtomicU32>,
}

/// Ports tried for one connection before giving up.
const BIND_ATTEMPTS: usize = 256;

impl SourcePorts {
    pub fn new(sources: usize) -> Self {
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|text| {
                let mut bounds = text.split_whitespace().map(|n| n.parse::<u32>().ok());
                Some((bounds.next()??, bounds.next()??))
            })
            .filter(|(low, high)| low < high && *high <= 65535)
            .unwrap_or((32768, 60999));
        // Start where an earlier run most likely did not end, away from its TIME_WAIT ports.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos() / 7);
        Self { range, cursors: (0..sources).map(|i| AtomicU32::new(start + i as u32 * 7919)).collect() }
    }

    /// The next port to try for source `source`.
    fn next(&self, source: usize) -> u16 {
        let (low, high) = self.range;
        let step = self.cursors[source].fetch_add(1, Ordering::Relaxed);
        u16::try_from(low + step % (high - low + 1)).unwrap_or(0)
    }

    /// A socket bound to address `source` of `addresses`.
    fn bind(&self, source: usize, address: Ipv4Addr) -> anyhow::Result<TcpSocket> {
        for _ in 0..BIND_ATTEMPTS {
            let socket = TcpSocket::new_v4()?;
            // A port still in TIME_WAIT from an earlier run may be bound again.
            socket.set_reuseaddr(true)?;
            match socket.bind(SocketAddr::new(address.into(), self.next(source))) {
                Ok(()) => return Ok(socket),
                Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e).with_context(|| format!("binding {address}")),
            }
        }
        anyhow::bail!("no free source port on {address} after {BIND_ATTEMPTS} attempts")
    }
}

/// Small buffers: many connections, each carrying little.
fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Opens a WebSocket from source address number `source` (`address`) with message-host token `token`.
pub async fn open(
    target: &Target,
    ports: &SourcePorts,
    (source, address): (usize, Ipv4Addr),
    token: &str,
) -> anyhow::Result<Socket> {
    let stream = if ports.cursors.len() == 1 && address == Ipv4Addr::LOCALHOST {
        // One address: the kernel picks the port at connect, cheaply, and may reuse TIME_WAIT ones.
        TcpStream::connect(target.address).await.context("connecting")?
    } else {
        ports.bind(source, address)?.connect(target.address).await.context("connecting")?
    };
    stream.set_nodelay(true)?;
    let mut request = target.url.as_str().into_client_request()?;
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
    let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
        .await
        .context("WebSocket handshake")?;
    Ok(socket)
}

//! What a person's browser does, over HTTP and WebSocket.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_proto::frames::ServerFrame;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for what it expects before failing: generous, since four tests (browsers and
/// stacks of six processes) share 2 cores in CI; a fresh stack's first ack waits for its sequencer group.
pub const WAIT: Duration = Duration::from_secs(30);

/// A browser session on web: a cookie jar, no automatic redirects (tests look at them).
pub struct Browser {
    pub web_url: String,
    http: reqwest::Client,
}

impl Browser {
    pub fn new(web_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            // No idle connections kept: each request opens its own, so none can meet a connection the
            // server is about to close (its 5 s keep-alive or first-request deadline).
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Self { web_url: web_url.to_owned(), http }
    }

    /// Posts a form the way a page does: with the session's CSRF token from the current page.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut fields = form.to_vec();
        fields.push(("csrf", &csrf));
        self.post_form_raw(path, &fields).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.web_url)).form(form).send().await.unwrap()
    }

    /// Posts `body` with these headers (and the session cookie), as a page's script does.
    pub async fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.web_url)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// The CSRF token in the forms of the page `/` leads to.
    pub async fn csrf(&self) -> String {
        let mut response = self.get("/").await;
        if response.status() == StatusCode::SEE_OTHER {
            response = self.get(&location(&response)).await;
        }
        let page = response.text().await.unwrap();
        let start = page.find(r#"name="csrf" value=""#).expect("a form with a CSRF token") + 19;
        page[start..].split('"').next().unwrap().to_owned()
    }

    /// A GET, retried once when the connection failed before any answer, as browsers retry an
    /// idempotent request (on a loaded machine a new connection can meet web's 5 s first-request
    /// deadline before the request is written: hyper reports an unexpected message).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.web_url);
        match self.http.get(&url).send().await {
            Ok(response) => response,
            Err(e) if e.is_request() || e.is_connect() => self.http.get(&url).send().await.unwrap(),
            Err(e) => panic!("GET {url}: {e}"),
        }
    }

    /// Signs up with the form and expects to land on the room list. A 503 ("a service this page
    /// needs is unavailable; try again soon") is retried, as a person would, a few times: tests start
    /// many stacks at once on a busy machine.
    pub async fn sign_up(&self, username: &str, password: &str) {
        let mut attempts: u64 = 0;
        let response = loop {
            let response = self.post_form("/signup", &[("username", username), ("password", password)]).await;
            attempts += 1;
            if response.status() != StatusCode::SERVICE_UNAVAILABLE || attempts == 5 {
                break response;
            }
            eprintln!("sign-up of {username}: 503 (attempt {attempts}), retrying");
            tokio::time::sleep(Duration::from_millis(300 * attempts)).await;
        };
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-up of {username}");
        assert_eq!(location(&response), "/rooms");
    }

    pub async fn log_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form("/login", &[("username", username), ("password", password)]).await
    }

    /// Creates a community room with the form; returns its id.
    pub async fn create_room(&self, name: &str) -> i64 {
        let response = self.post_form("/rooms", &[("name", name)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response).strip_prefix("/rooms/").unwrap().parse().unwrap()
    }

    pub async fn join_room(&self, room: i64) {
        let response = self.post_form(&format!("/rooms/{room}/join"), &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), format!("/rooms/{room}"));
    }

    /// The token the room page's script fetches for the message host.
    pub async fn ws_token(&self) -> String {
        let response = self.get("/ws-token").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// A WebSocket to a message pod.
pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Frames read while waiting for another one, in arrival order; nothing the server sends is lost.
    backlog: VecDeque<ServerFrame>,
}

/// How a connection attempt was answered.
pub enum Connect {
    Open(Box<Ws>),
    Refused(StatusCode),
}

/// Opens a WebSocket the way the room page does: token in the subprotocol list, the page's origin.
pub async fn connect(message_url: &str, token: Option<&str>, origin: Option<&str>) -> Connect {
    let mut request = format!("{message_url}/ws").into_client_request().unwrap();
    let headers = request.headers_mut();
    if let Some(token) = token {
        let protocols = format!("natter.v1, natter.token.{token}");
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_str(&protocols).unwrap());
    }
    if let Some(origin) = origin {
        headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    let connected = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await;
    match connected.expect("the WebSocket handshake finishes in time") {
        Ok((socket, response)) => {
            assert_eq!(response.headers().get("sec-websocket-protocol").unwrap(), "natter.v1");
            Connect::Open(Box::new(Ws { socket, next_id: 0, backlog: VecDeque::new() }))
        }
        Err(tungstenite::Error::Http(response)) => {
            Connect::Refused(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(e) => panic!("unexpected connection failure: {e}"),
    }
}

pub async fn open(message_url: &str, token: &str, origin: &str) -> Ws {
    match connect(message_url, Some(token), Some(origin)).await {
        Connect::Open(ws) => *ws,
        Connect::Refused(status) => panic!("connection refused with {status}"),
    }
}

impl Ws {
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("r{}", self.next_id)
    }

    pub async fn send_text(&mut self, text: &str) {
        tokio::time::timeout(WAIT, self.socket.send(Message::text(text)))
            .await
            .expect("sent in time")
            .unwrap();
    }

    pub async fn send_json(&mut self, value: serde_json::Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next frame from the server, backlog first (pings are answered by the library); fails after
    /// [`WAIT`].
    pub async fn recv(&mut self) -> ServerFrame {
        if let Some(frame) = self.backlog.pop_front() {
            return frame;
        }
        tokio::time::timeout(WAIT, self.read_frame()).await.expect("a frame in time")
    }

    async fn read_frame(&mut self) -> ServerFrame {
        loop {
            match self.socket.next().await.expect("connection open").expect("frame") {
                Message::Text(text) => return serde_json::from_str(&text).expect("server frames parse"),
                Message::Close(close) => panic!("connection closed: {close:?}"),
                _ => continue,
            }
        }
    }

    /// The first frame, backlog included, for which `pick` returns something; the frames passed over
    /// stay in the backlog. Fails after [`WAIT`].
    pub async fn recv_until<T>(&mut self, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        if let Some(found) = self.backlog.iter().position(|f| pick(f).is_some()) {
            let frame = self.backlog.remove(found).expect("index from position");
            return pick(&frame).expect("picked before");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.read_frame())
                .await
                .expect("the awaited frame in time");
            if let Some(found) = pick(&frame) {
                return found;
            }
            self.backlog.push_back(frame);
        }
    }

    /// Every frame passed over so far and whatever else arrives within `quiet`.
    pub async fn frames_within(&mut self, quiet: Duration) -> Vec<ServerFrame> {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.read_frame()).await {
            self.backlog.push_back(frame);
        }
        self.drain_backlog()
    }

    /// Every frame passed over so far.
    pub fn drain_backlog(&mut self) -> Vec<ServerFrame> {
        self.backlog.drain(..).collect()
    }

    pub async fn subscribe(&mut self, room: i64) -> ServerFrame {
        let id = self.next_id();
        self.send_json(serde_json::json!({"type": "subscribe", "id": id, "room": room})).await;
        self.recv_until(|f| answer_to(f, &id)).await
    }

    /// Publishes and waits for the answer (an ack or an error).
    pub async fn publish(&mut self, room: i64, text: &str) -> ServerFrame {
        let id = self.next_id();
        let client_msg_id = format!("c-{id}");
        self.send_json(serde_json::json!({
            "type": "publish", "id": id, "room": room, "text": text, "client_msg_id": client_msg_id,
        }))
        .await;
        self.recv_until(|f| answer_to(f, &id)).await
    }

    /// The next chat message of `room` with this text.
    pub async fn expect_message(&mut self, room: i64, text: &str) -> natter_proto::events::StoredMessage {
        self.recv_until(|f| match f {
            ServerFrame::Message { message }
                if message.posted.room_id == room && message.posted.text == text =>
            {
                Some(message.clone())
            }
            _ => None,
        })
        .await
    }

    /// Puts a frame back, to be read again after the frames already passed over.
    pub fn push_back(&mut self, frame: ServerFrame) {
        self.backlog.push_back(frame);
    }

    /// Every frame until the server closes the connection (backlog first), and the close code.
    pub async fn frames_until_close(&mut self) -> (Vec<ServerFrame>, Option<u16>) {
        let mut frames: Vec<ServerFrame> = self.backlog.drain(..).collect();
        loop {
            let next =
                tokio::time::timeout(WAIT, self.socket.next()).await.expect("the server closes in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    frames.push(serde_json::from_str(&text).expect("server frames parse"))
                }
                Some(Ok(Message::Close(close))) => return (frames, close.map(|c| u16::from(c.code))),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return (frames, None),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
        // Drain until the server's close arrives.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(2), self.socket.next()).await {}
    }
}

/// `Some(frame)` when `frame` answers request `id`.
pub fn answer_to(frame: &ServerFrame, id: &str) -> Option<ServerFrame> {
    let answers = match frame {
        ServerFrame::Subscribed { id: i, .. }
        | ServerFrame::Unsubscribed { id: i, .. }
        | ServerFrame::Ack { id: i, .. }
        | ServerFrame::Pong { id: i }
        | ServerFrame::ReadPosition { id: i, .. }
        | ServerFrame::CallJoined { id: i, .. }
        | ServerFrame::CallLeft { id: i, .. } => i == id,
        ServerFrame::Error { id: Some(i), .. } => i == id,
        _ => false,
    };
    answers.then(|| frame.clone())
}

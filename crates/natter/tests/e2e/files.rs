//! Files in chat, from the user's side: a member uploads a picture, shares it in a message that
//! reaches subscribers on both pods and history; members download it and its thumbnail, outsiders,
//! kicked members and anonymous clients are refused; every refused upload (too big, type not allowed,
//! type disguised by its name, cut short, an image bomb, a non-member's) leaves nothing in storage;
//! deleting the message removes the file from storage.

use std::time::Duration;

use futures_util::future::join_all;
use natter_proto::events::FileRef;
use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::api::{Api, Member};
use crate::client::{Browser, Ws, answer_to, open};
use crate::stack::Stack;

/// The upload limit these stacks run with.
const MAX_BYTES: usize = 1024 * 1024;
const BOUNDARY: &str = "natter-test-boundary-7d1f";

/// Web settings of the file cases: a small size limit, so "too big" is quick to send.
pub fn settings() -> Vec<(String, String)> {
    vec![("NATTER_FILES_MAX_BYTES".to_owned(), MAX_BYTES.to_string())]
}

/// A multipart/form-data body with one file field; `complete` false leaves off the closing boundary,
/// as a client whose connection drops mid-upload would.
fn multipart(field: &str, name: &str, declared_type: &str, content: &[u8], complete: bool) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
         Content-Type: {declared_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    if complete {
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    }
    body
}

/// Uploads over the REST API; the status and JSON answer.
async fn upload(
    api: &Api,
    who: Option<&Member>,
    room: i64,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/rooms/{room}/files", api.base))
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body);
    if let Some(who) = who {
        request = request.bearer_auth(&who.token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// Downloads `path` (`/files/...`) with `who`'s access token (anonymous for `None`).
async fn download(api: &Api, who: Option<&Member>, path: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", api.base));
    if let Some(who) = who {
        request = request.bearer_auth(&who.token);
    }
    request.send().await.unwrap()
}

/// Publishes a message sharing `file`; the answer.
async fn share(ws: &mut Ws, room: i64, file: Uuid, caption: &str) -> ServerFrame {
    let id = ws.next_id();
    ws.send_json(json!({
        "type": "publish", "id": id, "room": room, "text": caption, "file": file, "client_msg_id": format!("c-{id}"),
    }))
    .await;
    ws.recv_until(|f| answer_to(f, &id)).await
}

/// Waits until storage holds exactly `expected` keys.
async fn storage_settles(stack: &Stack, expected: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let keys = stack.files.keys().await;
        if keys == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "storage holds {keys:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A refused upload: what it is, who sends it, the body, the status and a word of the reason.
type Refused<'a> = (&'a str, Option<&'a Member>, Vec<u8>, StatusCode, &'a str);

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let [ann, ben, cat, dan] =
        <[Member; 4]>::try_from(join_all(["ann", "ben", "cat", "dan"].map(|n| api.member(n))).await)
            .ok()
            .unwrap();
    let room = api.create_room(&ann, "files", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &dan).await;

    // Ann uploads a picture; she gets its reference with a thumbnail.
    let picture = natter_test_support::images::png(400, 300);
    let (status, answer) =
        upload(&api, Some(&ann), room, multipart("file", "cat.png", "image/png", &picture, true)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let file: FileRef = serde_json::from_value(answer).unwrap();
    assert_eq!((file.name.as_str(), file.content_type.as_str()), ("cat.png", "image/png"));
    assert_eq!(file.size, picture.len() as i64);
    let thumbnail = file.thumbnail.expect("pictures get a thumbnail");
    assert_eq!((thumbnail.width, thumbnail.height), (320, 240));
    let stored = stack.files.keys().await;
    assert_eq!(stored.len(), 2, "the file and its thumbnail: {stored:?}");

    // She shares it from pod 1; Ben hears it on pod 0, with the file.
    let mut ben_ws = open(&stack.message_urls[0], &api.ws_token(&ben).await, &stack.web_url).await;
    let mut ann_ws = open(&stack.message_urls[1], &api.ws_token(&ann).await, &stack.web_url).await;
    for ws in [&mut ben_ws, &mut ann_ws] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }
    let answer = share(&mut ann_ws, room, file.file_id, "").await;
    let ServerFrame::Ack { message_id, position, .. } = answer else { panic!("sharing refused: {answer:?}") };
    let heard = ben_ws
        .recv_until(|f| match f {
            ServerFrame::Message { message } if message.posted.message_id == message_id => {
                Some(message.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(heard.position, position);
    assert_eq!(heard.posted.file.as_ref(), Some(&file), "the message carries the file");
    let history =
        api.expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/messages"), &ben, None).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut history = history;
    while history.as_array().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        history = api
            .expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/messages"), &ben, None)
            .await;
    }
    assert_eq!(history[0]["file"]["file_id"], json!(file.file_id), "history keeps the file: {history}");

    // A file is shared once, by its uploader.
    let again = share(&mut ann_ws, room, file.file_id, "again").await;
    assert!(matches!(again, ServerFrame::Error { code: ErrorCode::InvalidRequest, .. }), "{again:?}");
    let stolen = share(&mut ben_ws, room, file.file_id, "mine now").await;
    assert!(matches!(stolen, ServerFrame::Error { code: ErrorCode::InvalidRequest, .. }), "{stolen:?}");

    // Members download it and its thumbnail, safely typed; others are refused.
    let path = format!("/files/{}", file.file_id);
    let got = download(&api, Some(&ben), &path).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert!(
        got.headers()["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"cat.png\"")
    );
    assert!(got.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), picture.as_slice(), "the same bytes");
    let thumb = download(&api, Some(&ben), &format!("{path}/thumbnail")).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).expect("a PNG thumbnail");
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    assert_eq!(download(&api, Some(&cat), &path).await.status(), StatusCode::FORBIDDEN, "not a member");
    assert_eq!(download(&api, None, &path).await.status(), StatusCode::UNAUTHORIZED, "anonymous");
    assert_eq!(download(&api, Some(&dan), &path).await.status(), StatusCode::OK);
    api.expect(
        StatusCode::NO_CONTENT,
        Method::POST,
        &format!("/api/v1/rooms/{room}/members/{}/kick", dan.id),
        &ann,
        None,
    )
    .await;
    assert_eq!(download(&api, Some(&dan), &path).await.status(), StatusCode::FORBIDDEN, "kicked");
    assert_eq!(
        download(&api, Some(&ben), &format!("/files/{}", Uuid::now_v7())).await.status(),
        StatusCode::NOT_FOUND
    );

    // The room page's own upload: the session and its CSRF token, nothing else.
    let page = Browser::new(&stack.web_url);
    assert_eq!(page.log_in(&ben.username, "correct horse battery").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.get(&path).await.status(), StatusCode::OK, "downloads with the session cookie");
    let form_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let text = multipart("file", "notes.txt", "text/plain", "shopping: milk".as_bytes(), true);
    let forged =
        page.post_raw(&format!("/rooms/{room}/files"), &[("Content-Type", &form_type)], text.clone()).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let csrf = page.csrf().await;
    let headers = [("Content-Type", form_type.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let posted = page.post_raw(&format!("/rooms/{room}/files"), &headers, text).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let notes: FileRef = posted.json().await.unwrap();
    assert_eq!((notes.content_type.as_str(), notes.thumbnail), ("text/plain", None));
    let got = download(&api, Some(&ann), &format!("/files/{}", notes.file_id)).await;
    assert_eq!(got.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        got.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"),
        "downloads, never renders"
    );
    let stored = stack.files.keys().await;
    assert_eq!(stored.len(), 3, "{stored:?}");

    // Refused uploads, each with a clear reason, none leaving anything behind.
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0".to_vec();
    elf.resize(4096, 0);
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec();
    let cases: Vec<Refused> = vec![
        (
            "too big",
            Some(&ann),
            multipart("file", "big.txt", "text/plain", &vec![b'a'; MAX_BYTES + 1], true),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        ),
        (
            "HTML",
            Some(&ann),
            multipart("file", "page.html", "text/html", &html, true),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text/html",
        ),
        (
            "a program named like a picture",
            Some(&ann),
            multipart("file", "photo.png", "image/png", &elf, true),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "may not be uploaded",
        ),
        (
            "a picture named like a PDF",
            Some(&ann),
            multipart("file", "report.pdf", "application/pdf", &picture, true),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "its name says application/pdf",
        ),
        (
            "cut short",
            Some(&ann),
            multipart("file", "cut.png", "image/png", &picture[..picture.len() / 2], false),
            StatusCode::BAD_REQUEST,
            "ended early",
        ),
        (
            "an image bomb",
            Some(&ann),
            multipart(
                "file",
                "bomb.png",
                "image/png",
                &natter_test_support::images::bomb(100_000, 100_000),
                true,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "100000×100000",
        ),
        (
            "a non-member's",
            Some(&cat),
            multipart("file", "cat.png", "image/png", &picture, true),
            StatusCode::FORBIDDEN,
            "not a member",
        ),
        (
            "an anonymous one",
            None,
            multipart("file", "cat.png", "image/png", &picture, true),
            StatusCode::UNAUTHORIZED,
            "access token",
        ),
        (
            "a wrong field",
            Some(&ann),
            multipart("picture", "cat.png", "image/png", &picture, true),
            StatusCode::BAD_REQUEST,
            "expected the field",
        ),
    ];
    for (what, who, body, expected, reason) in cases {
        let (status, answer) = upload(&api, who, room, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert!(answer.to_string().contains(reason), "{what}: the reason says {reason:?}: {answer}");
        assert_eq!(stack.files.keys().await, stored, "{what} left nothing behind");
    }

    // Deleting the message removes the file from storage (the text file, never shared, stays).
    let deleted = loop {
        let id = ann_ws.next_id();
        ann_ws.send_json(json!({"type": "delete", "id": id, "room": room, "message_id": message_id})).await;
        let answer = ann_ws.recv_until(|f| answer_to(f, &id)).await;
        if !matches!(answer, ServerFrame::Error { code: ErrorCode::Unavailable, .. }) {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(matches!(deleted, ServerFrame::Ack { .. }), "{deleted:?}");
    let notes_key: Vec<String> =
        stored.iter().filter(|k| k.contains(&notes.file_id.to_string())).cloned().collect();
    assert_eq!(notes_key.len(), 1);
    storage_settles(&stack, &notes_key).await;
    assert_eq!(download(&api, Some(&ben), &path).await.status(), StatusCode::NOT_FOUND, "gone");
}

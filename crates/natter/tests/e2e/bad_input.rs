//! Bad input on the WebSocket path gets a clear answer, the connection stays open, nothing is lost.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::token::{MESSAGE_TOKEN_AUDIENCE, TOKEN_ISSUER, TokenClaims};
use natter_token::TokenSigner;
use reqwest::StatusCode;

use crate::client::{Browser, Connect, connect, open};
use crate::stack::{Stack, TEST_SIGNING_SEED};

fn error_code(frame: &ServerFrame) -> (Option<String>, ErrorCode) {
    match frame {
        ServerFrame::Error { id, code, .. } => (id.clone(), *code),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

fn refused(result: Connect) -> StatusCode {
    match result {
        Connect::Refused(status) => status,
        Connect::Open(_) => panic!("the connection was accepted"),
    }
}

pub async fn run(stack: Stack) {
    let suffix = natter_test_support::unique_suffix();
    let alice = Browser::new(&stack.web_url);
    alice.sign_up(&format!("alice_{suffix}"), "correct horse battery").await;
    let room = alice.create_room("bad input").await;
    let bob = Browser::new(&stack.web_url);
    bob.sign_up(&format!("bob_{suffix}"), "correct horse battery").await;
    let bobs_room = bob.create_room("bob's").await;
    let message_url = &stack.message_urls[0];
    let token = alice.ws_token().await;

    // Tokens: missing, garbage, forged signature, expired, wrong audience; wrong origin.
    assert_eq!(refused(connect(message_url, None, Some(&stack.web_url)).await), StatusCode::UNAUTHORIZED);
    assert_eq!(refused(connect(message_url, Some("garbage"), None).await), StatusCode::UNAUTHORIZED);
    let mut forged = token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(refused(connect(message_url, Some(&forged), None).await), StatusCode::UNAUTHORIZED);
    let signer = TokenSigner::from_seed(&TEST_SIGNING_SEED, Duration::from_secs(60));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = |aud: &str, exp: u64| TokenClaims {
        sub: "1".into(),
        name: "x".into(),
        aud: aud.into(),
        iss: TOKEN_ISSUER.into(),
        iat: now - 600,
        exp,
    };
    let expired = signer.sign(&claims(MESSAGE_TOKEN_AUDIENCE, now - 300));
    assert_eq!(refused(connect(message_url, Some(&expired), None).await), StatusCode::UNAUTHORIZED);
    let wrong_audience = signer.sign(&claims("elsewhere", now + 300));
    assert_eq!(refused(connect(message_url, Some(&wrong_audience), None).await), StatusCode::UNAUTHORIZED);
    let stranger = TokenSigner::generate(Duration::from_secs(60)).issue(1, "x");
    assert_eq!(refused(connect(message_url, Some(&stranger), None).await), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused(connect(message_url, Some(&token), Some("http://evil.example")).await),
        StatusCode::FORBIDDEN
    );

    // Bad frames: each answered with its error, the connection stays usable.
    let mut ws = open(message_url, &token, &stack.web_url).await;
    ws.send_text("this is not json").await;
    assert_eq!(error_code(&ws.recv().await), (None, ErrorCode::MalformedFrame));
    ws.send_text(r#"{"type":"dance","id":"d1"}"#).await;
    assert_eq!(error_code(&ws.recv().await), (Some("d1".into()), ErrorCode::UnknownFrameType));
    ws.send_text(r#"{"type":"subscribe","id":"s1","room":"lobby"}"#).await;
    assert_eq!(error_code(&ws.recv().await), (Some("s1".into()), ErrorCode::InvalidRequest));
    let huge = format!(r#"{{"type":"publish","id":"h1","room":{room},"text":"{}"}}"#, "x".repeat(40_000));
    ws.send_text(&huge).await;
    let frame = ws.recv().await;
    assert_eq!(error_code(&frame).1, ErrorCode::FrameTooLarge);
    let ServerFrame::Error { detail, .. } = frame else { unreachable!() };
    assert!(detail.contains("16384"), "the error names the limit: {detail}");
    ws.send_json(serde_json::json!({"type":"publish","id":"p1","room":room,"text":"early"})).await;
    assert_eq!(error_code(&ws.recv().await), (Some("p1".into()), ErrorCode::NotSubscribed));
    ws.send_json(serde_json::json!({"type":"subscribe","id":"s2","room":bobs_room})).await;
    assert_eq!(error_code(&ws.recv().await), (Some("s2".into()), ErrorCode::Forbidden));
    ws.send_json(serde_json::json!({"type":"subscribe","id":"s3","room":999_999_999})).await;
    assert_eq!(error_code(&ws.recv().await), (Some("s3".into()), ErrorCode::Forbidden));

    // Still open and working: ping, subscribe, publish, receive.
    ws.send_json(serde_json::json!({"type":"ping","id":"k1"})).await;
    assert_eq!(ws.recv().await, ServerFrame::Pong { id: "k1".into() });
    assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    assert!(matches!(ws.publish(room, "still here").await, ServerFrame::Ack { .. }));
    ws.expect_message(room, "still here").await;
    let empty = ws.publish(room, "   ").await;
    assert_eq!(error_code(&empty).1, ErrorCode::InvalidRequest);
    ws.close().await;
}

//! The browser client's protocol library (`crates/web/client/src/lib`), run by Node's test runner
//! against this stack: two members log in over REST, follow one room from two different pods, publish,
//! drop sockets, edit, delete, type and mark read (`crates/web/client/test/client.test.js`).

use std::path::Path;

use tokio::process::Command;

use crate::client::Browser;
use crate::stack::Stack;

const PASSWORD: &str = "correct horse battery";

pub async fn run(stack: Stack) {
    let suffix = natter_test_support::unique_suffix();
    let (alice_name, bob_name) = (format!("alice_{suffix}"), format!("bob_{suffix}"));
    let (alice, bob) = (Browser::new(&stack.web_url), Browser::new(&stack.web_url));
    alice.sign_up(&alice_name, PASSWORD).await;
    bob.sign_up(&bob_name, PASSWORD).await;
    let room = alice.create_room(&format!("library {suffix}")).await;
    bob.join_room(room).await;

    let client_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/client");
    let output = Command::new(std::env::var("NATTER_TEST_NODE").unwrap_or_else(|_| "node".into()))
        .args(["--experimental-websocket", "--no-warnings", "--test", "--test-reporter=tap", "test/"])
        .current_dir(&client_dir)
        .env("NATTER_WEB_URL", &stack.web_url)
        .env("NATTER_WS_URLS", stack.message_urls.join(","))
        .env("NATTER_ROOM", room.to_string())
        .env("NATTER_ALICE", format!("{alice_name}:{PASSWORD}"))
        .env("NATTER_BOB", format!("{bob_name}:{PASSWORD}"))
        .output()
        .await
        .expect("node is installed (Node 20 or newer)");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the client library's tests failed:\n{report}");
    assert!(report.contains("# skipped 0"), "the live tests must run, not be skipped:\n{report}");
}

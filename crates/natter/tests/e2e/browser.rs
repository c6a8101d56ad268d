//! The slice in a real browser (headless Chromium through chromedriver): two people sign up with the
//! forms, one creates a room, the other joins it with the button, the room page's script connects to
//! the message host (another origin), and each sees the other's message appear; markup in a message
//! shows as text.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::client::WAIT;
use crate::stack::Stack;

pub(crate) struct Chromedriver {
    url: String,
    _child: Child,
}

/// Killing chromedriver alone would leave its Chromium processes running (a test that fails never
/// reaches `close`): the whole process group goes.
impl Drop for Chromedriver {
    fn drop(&mut self) {
        if let Some(pid) = self._child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

pub(crate) async fn chromedriver() -> Chromedriver {
    let port = crate::stack::free_port();
    let child =
        Command::new(std::env::var("NATTER_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so the browsers it starts go with it (see `Drop`).
            .process_group(0)
            .spawn()
            .expect("chromedriver is installed (scripts/services installs chromium-driver)");
    natter_test_support::require_listening(
        "chromedriver",
        &format!("127.0.0.1:{port}"),
        Duration::from_secs(10),
    )
    .await;
    Chromedriver { url: format!("http://127.0.0.1:{port}"), _child: child }
}

pub(crate) async fn browser(driver: &Chromedriver) -> Client {
    browser_with(driver, &[]).await
}

/// A headless Chromium with `extra` command-line arguments (a profile directory, say).
pub(crate) async fn browser_with(driver: &Chromedriver, extra: &[String]) -> Client {
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1280,800",
    ]
    .map(String::from)
    .to_vec();
    args.extend_from_slice(extra);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), "chrome".into());
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("NATTER_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": args,
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

pub(crate) async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Waits until `script` returns a truthy value; returns it.
pub(crate) async fn wait_js(client: &Client, script: &str, what: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let value = js(client, script).await;
        if !(value.is_null() || value == json!(false) || value == json!(0) || value == json!("")) {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            let state = js(client, "const l = document.querySelectorAll('#messages li'); return [l.length, l[0]?.id, l[l.length - 1]?.id, document.getElementById('errors')?.textContent, document.getElementById('status')?.textContent, document.getElementById('scroller')?.scrollTop]").await;
            if let Ok(png) = client.screenshot().await {
                let _ = std::fs::write(screenshots().join("failure.png"), png);
            }
            panic!(
                "{what}: `{script}` stayed {value}; rows, first, last, errors, status, scrollTop: {state}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where screenshots go: `$CARGO_TARGET_DIR/natter-screenshots`.
pub(crate) fn screenshots() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("natter-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The serious and critical axe-core violations on the page (rule and elements), empty when none.
pub(crate) async fn axe_violations(client: &Client) -> Value {
    let axe = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web/client/node_modules/axe-core/axe.min.js"
    ))
    .expect("axe-core is installed (scripts/test runs npm ci in crates/web/client)");
    client
        .execute_async(
            &format!("{axe}\nconst done = arguments[arguments.length - 1];\
              axe.run(document, {{ resultTypes: ['violations'] }}).then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"),
            vec![],
        )
        .await
        .unwrap()
}

pub(crate) async fn fill(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

pub(crate) async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

pub(crate) async fn sign_up(client: &Client, web_url: &str, name: &str) {
    client.goto(web_url).await.unwrap();
    fill(client, "form[action='/signup'] input[name=username]", name).await;
    fill(client, "form[action='/signup'] input[name=password]", "correct horse battery").await;
    click(client, "form[action='/signup'] button").await;
    wait_for_path(client, "/rooms").await;
}

/// Creates a community room with the app's form; the path of its page, where the browser lands.
pub(crate) async fn create_room(client: &Client, name: &str) -> String {
    fill(client, "form[action='/rooms'] input[name=name]", name).await;
    click(client, "form[action='/rooms'] button").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let path = client.current_url().await.unwrap().path().to_owned();
        if path.starts_with("/rooms/") {
            return path;
        }
        assert!(tokio::time::Instant::now() < deadline, "room not created");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn wait_for_path(client: &Client, path: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "still at {url}, expected {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the text of the element at `css` satisfies `want`; returns it.
pub(crate) async fn wait_for_text(client: &Client, css: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && want(&text)
        {
            return text;
        }
        if tokio::time::Instant::now() > deadline {
            let page = client.source().await.unwrap_or_default();
            panic!("{css} did not show the expected text in time; page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn say(client: &Client, text: &str) {
    fill(client, "#text", text).await;
    click(client, "#composer button[type=submit]").await;
}

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let (alice, bob) = (browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();

    sign_up(&alice, &stack.web_url, &format!("alice_{suffix}")).await;
    let room_path = create_room(&alice, "browser room").await;

    sign_up(&bob, &stack.web_url, &format!("bob_{suffix}")).await;
    click(&bob, &format!("form[action='{room_path}/join'] button")).await;
    wait_for_path(&bob, &room_path).await;

    // Each page's script connected to the message host and subscribed.
    wait_for_text(&alice, "#status", |t| t == "live").await;
    wait_for_text(&bob, "#status", |t| t == "live").await;

    say(&alice, "hello from alice's browser").await;
    wait_for_text(&bob, "#messages", |t| t.contains("hello from alice's browser")).await;
    let markup = "<b>bold?</b><img src=x onerror=\"window.pwned=1\">";
    say(&bob, markup).await;
    wait_for_text(&alice, "#messages", |t| t.contains(markup)).await;
    let injected = alice
        .execute("return [window.pwned === undefined, document.querySelectorAll('#messages b, #messages img').length]", vec![])
        .await
        .unwrap();
    assert_eq!(injected, serde_json::json!([true, 0]), "message markup must stay text");

    // Bob answers Alice's message with its Reply button; both pages show whom it answers.
    bob.execute("document.querySelector('#messages li:first-child .action-reply').click()", vec![])
        .await
        .unwrap();
    wait_for_text(&bob, "#replying", |t| t.contains(&format!("alice_{suffix}"))).await;
    say(&bob, "a reply from bob").await;
    let quoted = format!("alice_{suffix}");
    wait_for_text(&alice, "#messages li:last-child .quote .quote-name", |t| t == quoted).await;
    wait_for_text(&alice, "#messages li:last-child .quote .snippet", |t| t == "hello from alice's browser")
        .await;
    wait_for_text(&alice, "#messages li:last-child .text", |t| t == "a reply from bob").await;

    // Alice shares a picture with the page's file picker; Bob's page shows it with its thumbnail,
    // fetched with his session cookie.
    let picture = std::env::temp_dir().join(format!("natter-browser-{suffix}-cat.png"));
    std::fs::write(&picture, natter_test_support::images::png(640, 480)).unwrap();
    fill(&alice, "#file", picture.to_str().unwrap()).await;
    alice.wait().for_element(Locator::Css("#attachment.ready")).await.expect("the upload finishes");
    say(&alice, "our cat").await;
    let name = picture.file_name().unwrap().to_str().unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while bob
        .find(Locator::Css(&format!("#messages li:last-child a.file.image img[alt='{name}']")))
        .await
        .is_err()
    {
        assert!(tokio::time::Instant::now() < deadline, "bob never saw the picture");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let shown = bob
            .execute("const i = document.querySelector('#messages li:last-child .file img'); return i ? i.naturalWidth : 0", vec![])
            .await
            .unwrap();
        if shown == serde_json::json!(320) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the thumbnail never loaded: {shown}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_file(&picture).unwrap();

    // The history page, rendered by web, has both.
    // History is written asynchronously: reload until both messages are there.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        alice.goto(&format!("{}{room_path}/history", stack.web_url)).await.unwrap();
        let history = wait_for_text(&alice, "body", |_| true).await;
        if history.contains("hello from alice's browser")
            && history.contains(markup)
            && history.contains("-cat.png")
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "history never showed both messages: {history}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    direct_chat_unread_and_kick(&stack, &alice, &bob, &suffix, &room_path).await;
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

/// Bob starts a direct chat from the room list and writes; Alice's room list shows it with an unread
/// badge; Alice kicks Bob from the manage page and Bob's open room page says he was removed.
async fn direct_chat_unread_and_kick(
    stack: &Stack,
    alice: &Client,
    bob: &Client,
    suffix: &str,
    room_path: &str,
) {
    bob.goto(&format!("{}{room_path}", stack.web_url)).await.unwrap();
    wait_for_text(bob, "#status", |t| t == "live").await;
    let bob_room = bob.new_window(true).await.unwrap();
    let room_tab = bob.window().await.unwrap();
    bob.switch_to_window(bob_room.handle).await.unwrap();
    bob.goto(&format!("{}/rooms", stack.web_url)).await.unwrap();
    fill(bob, "#start-direct input[name=username]", &format!("alice_{suffix}")).await;
    click(bob, "#start-direct button").await;
    wait_for_text(bob, "#status", |t| t == "live").await;
    let direct_path = bob.current_url().await.unwrap().path().to_owned();
    assert!(direct_path.starts_with("/rooms/") && direct_path != room_path, "{direct_path}");
    say(bob, "psst, alice").await;
    wait_for_text(bob, "#messages", |t| t.contains("psst, alice")).await;

    // History is written asynchronously: reload the list until the message is counted.
    let direct_id = direct_path.trim_start_matches("/rooms/");
    let item = format!("#my-rooms li[data-room-id='{direct_id}'][data-unread='1']");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        alice.goto(&format!("{}/rooms", stack.web_url)).await.unwrap();
        if let Ok(found) = alice.find(Locator::Css(&item)).await {
            let text = found.text().await.unwrap();
            assert!(text.contains(&format!("bob_{suffix}")) && text.contains("psst, alice"), "{text}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no unread badge: {}", alice.source().await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = alice.find(Locator::Css("#my-rooms li")).await.unwrap().attr("data-room-id").await.unwrap();
    assert_eq!(first.as_deref(), Some(direct_id), "the latest activity comes first");

    // Kick Bob; his other tab, still on the community room, is told.
    bob.switch_to_window(room_tab).await.unwrap();
    alice.goto(&format!("{}{room_path}/manage", stack.web_url)).await.unwrap();
    let bob_row = alice.find(Locator::Css("tr[data-role='member']")).await.unwrap();
    bob_row.find(Locator::Css("form[action$='/manage/kick'] button")).await.unwrap().click().await.unwrap();
    // Destructive moderation asks first, naming whom.
    let question = wait_for_text(alice, "#confirm-text", |t| !t.is_empty()).await;
    assert!(question.contains(&format!("bob_{suffix}")), "{question}");
    click(alice, "#confirm-yes").await;
    wait_for_text(bob, "#status", |t| t == "removed").await;
    let audit = wait_for_text(alice, "body", |t| t.contains("kicked")).await;
    assert!(audit.contains(&format!("alice_{suffix}")), "the audit log names who kicked");
}

/// A Chrome DevTools Protocol command, through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &reqwest::Url, session_id: Option<&str>) -> Result<reqwest::Url, UrlError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(json!({"cmd": self.cmd, "params": self.params}).to_string()))
    }
}

/// `url::ParseError`, through reqwest (the crate is not a direct dependency here).
type UrlError = <reqwest::Url as std::str::FromStr>::Err;

pub(crate) async fn cdp(client: &Client, cmd: &'static str, params: Value) -> Result<Value, String> {
    client.issue_cmd(Cdp { cmd, params }).await.map_err(|e| e.to_string())
}

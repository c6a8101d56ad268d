//! The application around the conversation, as people use it in headless Chromium: a third person
//! starts a direct chat and it appears in the recipient's sidebar without a reload; unread counts rise
//! live, show in the tab title, and clear on every tab when the room is read; the quick switcher;
//! a kicked member's sidebar drops the room with the reason; a banned member sees why and no Join
//! button; `?next=` brings a person back after logging in and refuses another origin; "remember me"
//! survives a browser restart (and a plain login does not); "log out other devices"; an uploaded
//! avatar in settings, the message list and the sidebar; styled error pages; axe-core and both
//! layouts (no sideways scrolling, the phone drawer) on the app, welcome and settings pages.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    Chromedriver, axe_violations, browser, browser_with, chromedriver, click, fill, js, screenshots, sign_up,
    wait_for_path, wait_for_text, wait_js,
};
use crate::client::{Browser, open};
use crate::stack::Stack;

const PASSWORD: &str = "correct horse battery";

/// The sidebar entry of `room`.
fn entry(room: i64) -> String {
    format!("#my-rooms li[data-room-id='{room}']")
}

/// A browser keeping its profile in `profile` (cookies survive closing it, as on a person's machine).
async fn browser_with_profile(driver: &Chromedriver, profile: &std::path::Path) -> Client {
    browser_with(driver, &[format!("--user-data-dir={}", profile.display())]).await
}

async fn log_in(client: &Client, username: &str, remember: bool) {
    fill(client, "#login-form input[name=username]", username).await;
    fill(client, "#login-form input[name=password]", PASSWORD).await;
    if remember {
        click(client, "#login-form input[name=remember]").await;
    }
    click(client, "#login-form button").await;
}

pub(crate) async fn check_layouts(client: &Client, page: &str, mode: &str) {
    for (width, height) in [(1280u32, 800u32), (390, 844)] {
        client.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let layout = js(client, "const d = document.documentElement; return [d.scrollWidth <= d.clientWidth, document.body.scrollWidth <= d.clientWidth, window.innerWidth]").await;
        assert_eq!(
            (&layout[0], &layout[1]),
            (&json!(true), &json!(true)),
            "{page} at {width}x{height}: {layout}"
        );
        let png = client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{page}-{mode}-{width}x{height}.png")), png).unwrap();
    }
    client.set_window_size(1280, 800).await.unwrap();
    assert_eq!(axe_violations(client).await, json!([]), "axe-core: serious or critical violations on {page}");
}

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let (alice, bob) = (browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();
    let (alice_name, bob_name, carol_name) =
        (format!("alice_{suffix}"), format!("bob_{suffix}"), format!("carol_{suffix}"));
    let mode = if stack.kafka.is_some() { "distributed" } else { "standalone" };

    // The welcome page says what Natter is, and the password rules before they fail.
    alice.goto(&stack.web_url).await.unwrap();
    let welcome = wait_for_text(&alice, "body", |t| t.contains("Natter")).await;
    assert!(welcome.contains("open chat server") && welcome.contains("At least 8 characters"), "{welcome}");
    check_layouts(&alice, "welcome", mode).await;

    sign_up(&alice, &stack.web_url, &alice_name).await;
    wait_for_text(&alice, "#my-rooms", |t| t.contains("No rooms yet")).await;
    fill(&alice, "#create-room input[name=name]", &format!("team {suffix}")).await;
    click(&alice, "#create-room button").await;
    let team: i64 = wait_js(
        &alice,
        "return location.pathname.startsWith('/rooms/') && Number(location.pathname.slice(7))",
        "room created",
    )
    .await
    .as_i64()
    .unwrap();
    wait_for_text(&alice, "#status", |t| t == "live").await;
    wait_js(
        &alice,
        &format!("return document.querySelector(\"{} \")?.classList.contains('current')", entry(team)),
        "the open room is marked",
    )
    .await;

    sign_up(&bob, &stack.web_url, &bob_name).await;
    click(&bob, &format!("form[action='/rooms/{team}/join'] button")).await;
    wait_for_path(&bob, &format!("/rooms/{team}")).await;
    wait_for_text(&bob, "#status", |t| t == "live").await;
    // Alice's people panel shows him without a reload.
    wait_js(
        &alice,
        &format!("return !!document.querySelector(\"#people li[data-username='{bob_name}']\")"),
        "bob in alice's people panel",
    )
    .await;

    // A third person starts a direct chat with Alice and writes: it appears in her sidebar, live,
    // with an unread count, the tab title counts it, and the newest activity comes first.
    let carol = Browser::new(&stack.web_url);
    carol.sign_up(&carol_name, PASSWORD).await;
    let started = tokio::time::Instant::now();
    let answer = carol.post_form("/direct", &[("username", &alice_name)]).await;
    let location =
        answer.headers().get("location").expect("redirected to the chat").to_str().unwrap().to_owned();
    let direct: i64 = location.trim_start_matches("/rooms/").parse().expect("redirected to the chat");
    wait_js(
        &alice,
        &format!("return !!document.querySelector(\"{}[data-kind=direct]\")", entry(direct)),
        "the new direct chat in the sidebar",
    )
    .await;
    println!(
        "app shell ({mode}): a new direct chat reached the recipient's sidebar in {} ms",
        started.elapsed().as_millis()
    );
    let mut ws = open(&stack.message_urls[0], &carol.ws_token().await, &stack.web_url).await;
    ws.subscribe(direct).await;
    // Alice allowed notifications and is looking elsewhere (the browser's Notification API and focus,
    // stood in for from outside the page: headless Chromium shows no notifications).
    js(&alice, "window.shown = []; window.Notification = class { constructor(title, options) { window.shown.push([title, options.body]); } static get permission() { return 'granted'; } }; document.hasFocus = () => false;").await;
    ws.publish(direct, "psst, alice").await;
    wait_js(
        &alice,
        &format!("return document.querySelector(\"{}\")?.dataset.unread === '1'", entry(direct)),
        "unread rises live",
    )
    .await;
    let item = wait_for_text(&alice, &entry(direct), |t| t.contains("psst, alice")).await;
    assert!(item.contains(&carol_name), "{item}");
    wait_js(&alice, "return document.title.startsWith('(1) ')", "the tab title counts unread").await;
    wait_js(
        &alice,
        "return document.querySelector('link[rel=icon]').href.startsWith('data:image/png')",
        "the favicon carries a badge",
    )
    .await;
    let shown = wait_js(
        &alice,
        "return window.shown.length && window.shown",
        "a notification for the direct message",
    )
    .await;
    assert_eq!(shown, json!([[carol_name, "psst, alice"]]));
    js(&alice, "delete document.hasFocus").await; // back to the browser's own
    let first = js(&alice, "return Number(document.querySelector('#my-rooms li').dataset.roomId)").await;
    assert_eq!(first, json!(direct), "the latest activity comes first");

    // A second tab of Alice's shows the same count; reading the chat in the first clears both.
    let first_tab = alice.window().await.unwrap();
    let second = alice.new_window(true).await.unwrap();
    alice.switch_to_window(second.handle.clone()).await.unwrap();
    alice.goto(&format!("{}/rooms", stack.web_url)).await.unwrap();
    wait_js(
        &alice,
        &format!("return document.querySelector(\"{}\")?.dataset.unread === '1'", entry(direct)),
        "second tab: unread",
    )
    .await;
    wait_js(&alice, "return document.title.startsWith('(1) ')", "second tab: title").await;
    let second_tab = alice.window().await.unwrap();
    alice.switch_to_window(first_tab.clone()).await.unwrap();
    click(&alice, &format!("{} a", entry(direct))).await;
    wait_for_path(&alice, &format!("/rooms/{direct}")).await;
    wait_for_text(&alice, "#messages", |t| t.contains("psst, alice")).await;
    wait_js(&alice, &format!("return document.querySelector(\"{}\")?.dataset.unread === '0' && !document.title.startsWith('(')", entry(direct)), "read in the open tab").await;
    alice.switch_to_window(second_tab).await.unwrap();
    wait_js(&alice, &format!("return document.querySelector(\"{}\")?.dataset.unread === '0' && !document.title.startsWith('(')", entry(direct)), "the other tab clears too").await;
    alice.close_window().await.unwrap();
    alice.switch_to_window(first_tab).await.unwrap();

    // The quick switcher: Ctrl+K, a few letters, Enter.
    js(
        &alice,
        "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true, bubbles: true }))",
    )
    .await;
    wait_js(&alice, "return document.getElementById('switcher').open", "the switcher opens").await;
    fill(&alice, "#switcher-input", "tea").await;
    wait_for_text(&alice, "#switcher-results li[aria-selected=true]", |t| {
        t.contains(&format!("team {suffix}"))
    })
    .await;
    fill(&alice, "#switcher-input", "\u{E007}").await;
    wait_for_path(&alice, &format!("/rooms/{team}")).await;
    wait_for_text(&alice, "#status", |t| t == "live").await;
    check_layouts(&alice, "app-room", mode).await;

    // Alt+Up and Alt+Down move between the sidebar's rooms.
    let above = js(&alice, "const li = document.querySelector('#my-rooms li.current').previousElementSibling; return li ? Number(li.dataset.roomId) : null").await;
    assert_eq!(above, json!(direct), "the direct chat, with newer activity, is above");
    js(&alice, "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', altKey: true, bubbles: true }))").await;
    wait_for_path(&alice, &format!("/rooms/{direct}")).await;
    wait_for_text(&alice, "#status", |t| t == "live").await;
    js(&alice, "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', altKey: true, bubbles: true }))").await;
    wait_for_path(&alice, &format!("/rooms/{team}")).await;
    wait_for_text(&alice, "#status", |t| t == "live").await;

    // Switching rooms keeps the page (and its socket): the room's pane is replaced in place, the
    // address changes, and Back returns.
    js(&alice, "window.samePage = true").await;
    click(&alice, &format!("{} a", entry(direct))).await;
    wait_for_path(&alice, &format!("/rooms/{direct}")).await;
    wait_for_text(&alice, "#messages", |t| t.contains("psst, alice")).await;
    wait_js(&alice, &format!("return window.samePage === true && document.title.startsWith('{carol_name}') && document.getElementById('status').textContent === 'live' && document.querySelector(\"{} a\").getAttribute('aria-current') === 'page'", entry(direct)), "switched in place").await;
    crate::browser::say(&alice, "answered without a reload").await;
    ws.expect_message(direct, "answered without a reload").await;
    alice.back().await.unwrap();
    wait_for_path(&alice, &format!("/rooms/{team}")).await;
    wait_js(
        &alice,
        // The address changes at once; the room's pane follows when it has been fetched.
        &format!("return window.samePage === true && document.getElementById('room').dataset.room === '{team}' && document.getElementById('status').textContent === 'live'"),
        "back in place",
    )
    .await;

    // On a phone the sidebar is a drawer.
    alice.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hidden = js(&alice, "return getComputedStyle(document.getElementById('sidebar')).visibility").await;
    assert_eq!(hidden, json!("hidden"), "the drawer starts closed on a phone");
    click(&alice, "#drawer-open").await;
    wait_js(&alice, "const r = document.getElementById('sidebar').getBoundingClientRect(); return getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && r.left >= 0 && r.right <= window.innerWidth", "the drawer opens").await;
    let png = alice.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("app-drawer-{mode}-390x844.png")), png).unwrap();
    alice.set_window_size(1280, 800).await.unwrap();

    // Alice uploads a picture in Settings: cut to a square, it shows in the settings, beside her
    // messages in Bob's view, and on the direct chat Bob starts with "Message @…" in the switcher.
    let picture = std::env::temp_dir().join(format!("natter-avatar-{suffix}.png"));
    std::fs::write(&picture, natter_test_support::images::png(300, 200)).unwrap();
    alice.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    fill(&alice, "#avatar-form input[type=file]", picture.to_str().unwrap()).await;
    click(&alice, "#avatar-form button").await;
    wait_for_text(&alice, "#notice", |t| t == "Saved.").await;
    let size = wait_js(&alice, "const i = document.getElementById('avatar'); return i && i.complete && i.naturalWidth && [i.naturalWidth, i.naturalHeight, i.getAttribute('src')]", "the avatar loads").await;
    assert_eq!((&size[0], &size[1]), (&json!(128), &json!(128)), "{size}");
    assert!(size[2].as_str().unwrap().starts_with("/avatars/"), "{size}");
    std::fs::remove_file(&picture).unwrap();
    bob.goto(&format!("{}/rooms/{team}", stack.web_url)).await.unwrap();
    wait_for_text(&bob, "#status", |t| t == "live").await;
    alice.goto(&format!("{}/rooms/{team}", stack.web_url)).await.unwrap();
    wait_for_text(&alice, "#status", |t| t == "live").await;
    crate::browser::say(&alice, "with a face now").await;
    wait_js(&bob, "const r = [...document.querySelectorAll('#messages li')].find(li => li.textContent.includes('with a face now')); return r && r.querySelector('.avatar img')?.getAttribute('src')?.startsWith('/avatars/')", "the avatar beside her message").await;
    js(
        &bob,
        "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true, bubbles: true }))",
    )
    .await;
    fill(&bob, "#switcher-input", &format!("@{alice_name}")).await;
    wait_for_text(&bob, "#switcher-results", |t| t.contains(&format!("Message @{alice_name}"))).await;
    js(&bob, "[...document.querySelectorAll('#switcher-results li')].find(li => li.textContent.startsWith('Message @')).click()").await;
    let bob_direct: i64 = wait_js(&bob, &format!("return location.pathname !== '/rooms/{team}' && location.pathname.startsWith('/rooms/') && Number(location.pathname.slice(7))"), "bob's direct chat opens")
        .await
        .as_i64()
        .unwrap();
    wait_js(&bob, &format!("return document.querySelector(\"{} img.room-avatar\")?.getAttribute('src')?.startsWith('/avatars/')", entry(bob_direct)), "her picture on the chat in bob's sidebar").await;

    // Bob waits on the room list; Alice kicks him: his sidebar drops the room and says why.
    bob.goto(&format!("{}/rooms", stack.web_url)).await.unwrap();
    wait_js(&bob, &format!("return !!document.querySelector(\"{}\")", entry(team)), "bob's sidebar").await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the page's socket subscribes
    alice.goto(&format!("{}/rooms/{team}/manage", stack.web_url)).await.unwrap();
    check_layouts(&alice, "manage", mode).await;
    let row = alice.find(Locator::Css("tr[data-role='member']")).await.unwrap();
    row.find(Locator::Css("form[action$='/manage/kick'] button")).await.unwrap().click().await.unwrap();
    click(&alice, "#confirm-yes").await;
    wait_js(
        &bob,
        &format!("return !document.querySelector(\"{}\")", entry(team)),
        "the room leaves bob's sidebar",
    )
    .await;
    let notice = wait_for_text(&bob, "#sidebar-notice", |t| !t.is_empty()).await;
    assert!(notice.contains("removed"), "{notice}");

    // Banned: the room list says so and offers no Join button.
    fill(&alice, "#ban-form input[name=who]", &bob_name).await;
    click(&alice, "#ban-form button").await;
    click(&alice, "#confirm-yes").await;
    wait_for_text(&alice, "#audit-log", |t| t.contains("ban")).await;
    bob.goto(&format!("{}/rooms?q=team%20{suffix}", stack.web_url)).await.unwrap();
    let found = wait_for_text(&bob, &format!("#joinable-rooms li[data-room-id='{team}']"), |_| true).await;
    assert!(found.contains("banned"), "{found}");
    assert!(
        bob.find(Locator::Css(&format!("form[action='/rooms/{team}/join']"))).await.is_err(),
        "no Join button"
    );
    bob.goto(&format!("{}/rooms/{team}", stack.web_url)).await.unwrap();
    let why = wait_for_text(&bob, "body", |t| t.contains("403")).await;
    assert!(
        why.contains(&format!("You are banned from team {suffix}")) && why.contains("Back to your rooms"),
        "{why}"
    );

    // Settings: the theme choice applies at once and stays.
    alice.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    click(&alice, "#theme input[value=dark]").await;
    alice.refresh().await.unwrap();
    wait_js(&alice, "return document.documentElement.dataset.theme === 'dark'", "the theme stays").await;
    check_layouts(&alice, "settings", mode).await;
    click(&alice, "#theme input[value=system]").await;

    // Styled error pages with a way back.
    alice.goto(&format!("{}/no/such/page", stack.web_url)).await.unwrap();
    let missing = wait_for_text(&alice, "body", |t| t.contains("404")).await;
    assert!(missing.contains("Back to your rooms"), "{missing}");
    let favicon = js(&alice, "return document.querySelector('link[rel=icon]').href").await;
    assert!(favicon.as_str().unwrap().ends_with("/static/favicon.svg"), "{favicon}");

    // ?next=: a logged-out visit to a room comes back to it after logging in; another origin is refused.
    let profile = std::env::temp_dir().join(format!("natter-profile-{suffix}"));
    let visitor = browser_with_profile(&driver, &profile).await;
    visitor.goto(&format!("{}/rooms/{direct}", stack.web_url)).await.unwrap();
    wait_for_path(&visitor, "/").await;
    let url = visitor.current_url().await.unwrap();
    assert_eq!(url.query(), Some(format!("next=%2Frooms%2F{direct}").as_str()), "{url}");
    log_in(&visitor, &alice_name, true).await;
    wait_for_path(&visitor, &format!("/rooms/{direct}")).await;

    // Remembered: a new browser process on the same profile is still logged in.
    visitor.close().await.unwrap();
    let visitor = browser_with_profile(&driver, &profile).await;
    visitor.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    wait_for_path(&visitor, "/settings").await;
    wait_for_text(&visitor, "#username", |t| t == alice_name).await;
    // Log out, then in without "remember me" and from a link to another origin: the app, and the
    // session ends with the browser.
    click(&visitor, "form[action='/logout'] button").await;
    wait_for_path(&visitor, "/").await;
    visitor.goto(&format!("{}/?next=https%3A%2F%2Fevil.example%2F", stack.web_url)).await.unwrap();
    log_in(&visitor, &alice_name, false).await;
    wait_for_path(&visitor, "/rooms").await;
    visitor.close().await.unwrap();
    let visitor = browser_with_profile(&driver, &profile).await;
    visitor.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    wait_for_path(&visitor, "/").await;

    // Settings lists where Alice is logged in; "log out other devices" ends the visitor's session
    // and keeps this one.
    log_in(&visitor, &alice_name, false).await;
    wait_for_path(&visitor, "/settings").await; // where it was going
    alice.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    let devices = wait_for_text(&alice, "#devices", |t| t.contains("this browser")).await;
    assert!(devices.lines().count() >= 2 && devices.contains("Chrome on Linux"), "{devices}");
    click(&alice, "#log-out-others button").await;
    click(&alice, "#confirm-yes").await;
    wait_for_text(&alice, "#notice", |t| t == "Saved.").await;
    let devices = wait_for_text(&alice, "#devices", |_| true).await;
    assert_eq!(devices.lines().count(), 1, "{devices}");
    visitor.goto(&format!("{}/settings", stack.web_url)).await.unwrap();
    wait_for_path(&visitor, "/").await;
    alice.refresh().await.unwrap();
    wait_for_path(&alice, "/settings").await;
    visitor.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    ws.close().await;
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

//! The chat client as two people use it, in headless Chromium: a room with 500 earlier messages opens at
//! the "new messages" divider and scrolls back to the first; a reload keeps the place; edit, delete,
//! a refusal shown in words; reply quotes that jump; typing; a pasted image with its lightbox; a dropped
//! PDF; messages sent while the message host is down (distributed stack) delivered once when it is back;
//! Markdown and hostile markup safe in the live view and on the history page; both layouts without
//! sideways scrolling and with the composer on screen; no serious or critical axe-core violation.
//! Screenshots of both layouts go to `$CARGO_TARGET_DIR/natter-screenshots/` (not committed).

use std::time::Duration;

use base64::Engine;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    axe_violations, browser, chromedriver, click, create_room, fill, js, screenshots, sign_up, wait_for_path,
    wait_for_text, wait_js,
};
use crate::client::{Browser, answer_to, open};
use crate::stack::Stack;

const PASSWORD: &str = "correct horse battery";
const EARLIER: usize = 500;

/// Publishes `count` messages as `member` over a socket of its own (pipelined, waiting for every ack).
async fn seed(stack: &Stack, member: &Browser, room: i64, count: usize) {
    let mut ws = open(&stack.message_urls[1], &member.ws_token().await, &stack.web_url).await;
    ws.subscribe(room).await;
    for chunk in (1..=count).collect::<Vec<_>>().chunks(50) {
        let ids: Vec<String> = chunk.iter().map(|i| format!("seed{i}")).collect();
        for (i, id) in chunk.iter().zip(&ids) {
            ws.send_json(json!({"type": "publish", "id": id, "room": room, "text": format!("earlier message {i}"), "client_msg_id": id}))
                .await;
        }
        for id in &ids {
            ws.recv_until(|f| answer_to(f, id)).await;
        }
    }
    ws.close().await;
}

/// Whether the row of `position` is inside the message list's visible area.
fn visible(position: i64) -> String {
    format!(
        "const r = document.getElementById('m{position}'); const s = document.getElementById('scroller');\
         if (!r) return false; const a = r.getBoundingClientRect(), b = s.getBoundingClientRect();\
         return a.bottom > b.top && a.top < b.bottom;"
    )
}

/// Scrolls the message list up, as a person would, until the row of `position` is loaded.
async fn scroll_up_to(client: &Client, position: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let loaded = format!("return !!document.getElementById('m{position}')");
    while js(client, &loaded).await != json!(true) {
        js(client, "document.getElementById('scroller').scrollTop = 0").await;
        if tokio::time::Instant::now() > deadline {
            wait_js(client, "return false", &format!("scrolling up to message {position}")).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn action(client: &Client, position: i64, name: &str) {
    js(client, &format!("document.querySelector('#m{position} .action-{name}').click()")).await;
}

/// Dispatches `event` ("paste" on the composer, "drop" on the conversation) carrying a file made of
/// `bytes`, as a person pasting or dragging one would.
async fn hand_over(client: &Client, event: &str, name: &str, content_type: &str, bytes: &[u8]) {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let script = format!(
        "const bytes = Uint8Array.from(atob('{data}'), c => c.charCodeAt(0));\
         const file = new File([bytes], '{name}', {{ type: '{content_type}' }});\
         const transfer = new DataTransfer(); transfer.items.add(file);\
         if ('{event}' === 'paste') document.getElementById('text').dispatchEvent(new ClipboardEvent('paste', {{ clipboardData: transfer, bubbles: true, cancelable: true }}));\
         else document.getElementById('conversation').dispatchEvent(new DragEvent('drop', {{ dataTransfer: transfer, bubbles: true, cancelable: true }}));"
    );
    js(client, &script).await;
}

pub async fn run(stack: Stack) {
    let mut stack = stack;
    let driver = chromedriver().await;
    let (alice, bob) = (browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();
    let (alice_name, bob_name) = (format!("alice_{suffix}"), format!("bob_{suffix}"));

    sign_up(&alice, &stack.web_url, &alice_name).await;
    let room_path = create_room(&alice, &format!("client {suffix}")).await;
    let room: i64 = room_path.trim_start_matches("/rooms/").parse().unwrap();
    sign_up(&bob, &stack.web_url, &bob_name).await;
    click(&bob, &format!("form[action='{room_path}/join'] button")).await;
    wait_for_path(&bob, &room_path).await;
    // Bob looks elsewhere while the room fills (an open room page would mark it all read).
    bob.goto(&format!("{}/rooms", stack.web_url)).await.unwrap();

    // 500 earlier messages; Bob has read up to 450 of them.
    let alice_http = Browser::new(&stack.web_url);
    alice_http.log_in(&alice_name, PASSWORD).await;
    seed(&stack, &alice_http, room, EARLIER).await;
    let bob_http = Browser::new(&stack.web_url);
    bob_http.log_in(&bob_name, PASSWORD).await;
    let csrf = bob_http.csrf().await;
    let headers = [("Content-Type", "application/json"), ("X-CSRF-Token", csrf.as_str())];
    let marked =
        bob_http.post_raw(&format!("{room_path}/read"), &headers, br#"{"position": 450}"#.to_vec()).await;
    assert!(marked.status().is_success(), "{:?}", marked.status());

    // Bob opens the room: it lands at the divider, before message 451.
    bob.goto(&format!("{}{room_path}", stack.web_url)).await.unwrap();
    wait_for_text(&bob, "#status", |t| t == "live").await;
    wait_js(&bob, &visible(451), "message 451 on screen").await;
    wait_js(&bob, "return document.querySelector('#m451 .divider')?.textContent", "the divider").await;
    // A figure, not a check (speed targets live in benchmarks): navigation start to the conversation
    // shown, 500 messages of history behind it.
    let shown =
        js(&bob, "return performance.getEntriesByName('natter:conversation-shown')[0]?.startTime").await;
    println!("chat client: room with {EARLIER} messages shown {shown} ms after navigation start");
    assert_eq!(js(&bob, "return document.querySelectorAll('.divider').length").await, json!(1));
    // Scrolling up reaches the first message; the DOM never holds the whole room.
    scroll_up_to(&bob, 1).await;
    let rows = js(&bob, "return document.querySelectorAll('#messages li').length").await.as_i64().unwrap();
    assert!(rows <= 300, "at most a window of rows in the DOM, not {rows}");
    let text = js(&bob, "return document.querySelector('#m1 .text').textContent").await;
    assert_eq!(text, json!("earlier message 1"));

    // A reload keeps the place.
    js(&bob, "const r = document.getElementById('m120'); const s = document.getElementById('scroller'); s.scrollTop = r.offsetTop - s.offsetTop;").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    bob.refresh().await.unwrap();
    wait_for_text(&bob, "#status", |t| t == "live").await;
    wait_js(&bob, &visible(120), "message 120 on screen after the reload").await;

    // Live: Alice is at the bottom. Bob replies to message 3 (far from Alice's window): her view shows
    // the quote with the original's words, and clicking it brings message 3 on screen.
    alice.goto(&format!("{}{room_path}", stack.web_url)).await.unwrap();
    wait_for_text(&alice, "#status", |t| t == "live").await;
    scroll_up_to(&bob, 3).await;
    action(&bob, 3, "reply").await;
    wait_for_text(&bob, "#replying", |t| t.contains(&alice_name)).await;
    fill(&bob, "#text", "answering three\n").await;
    let reply = wait_js(&alice, "const r = [...document.querySelectorAll('#messages li')].find(li => li.textContent.includes('answering three')); return r ? Number(r.dataset.position) : 0", "the reply").await.as_i64().unwrap();
    wait_for_text(&alice, &format!("#m{reply} .quote .snippet"), |t| t == "earlier message 3").await;
    click(&alice, &format!("#m{reply} .quote")).await;
    wait_js(&alice, &visible(3), "message 3 shown after the jump").await;
    assert_eq!(
        js(&alice, "return document.getElementById('m3').classList.contains('flash')").await,
        json!(true)
    );
    js(&alice, "document.getElementById('jump').click()").await;
    wait_js(&alice, &visible(reply), "back at the newest").await;

    // Typing: shown to the other, cleared when the message arrives.
    fill(&bob, "#text", "hmm").await;
    wait_for_text(&alice, "#typing", |t| t == format!("{bob_name} is typing…")).await;
    fill(&bob, "#text", "\n").await;
    wait_for_text(&alice, "#typing", |t| t.is_empty()).await;

    // Alice writes with a typo, edits it with Up arrow; Bob sees the new text marked as edited.
    fill(&alice, "#text", "teh plan\n").await;
    let typo = wait_js(&bob, "const r = [...document.querySelectorAll('#messages li')].find(li => li.textContent.includes('teh plan')); return r ? Number(r.dataset.position) : 0", "the typo").await.as_i64().unwrap();
    wait_js(
        &alice,
        &format!("return !!document.getElementById('m{typo}')"),
        "alice's own message in her list",
    )
    .await;
    fill(&alice, "#text", "\u{E013}").await; // Up arrow: edit the last own message
    let edit = alice
        .wait()
        .for_element(Locator::Css(&format!("#m{typo} textarea.edit-box")))
        .await
        .expect("edit box");
    edit.clear().await.unwrap();
    edit.send_keys("the plan\n").await.unwrap();
    wait_for_text(&bob, &format!("#m{typo} .text"), |t| t.starts_with("the plan") && t.contains("(edited)"))
        .await;
    // Bob may not edit or delete Alice's message: no such actions on his side.
    assert_eq!(
        js(
            &bob,
            &format!(
                "return document.querySelectorAll('#m{typo} .action-edit, #m{typo} .action-delete').length"
            )
        )
        .await,
        json!(0)
    );

    // Alice deletes it after confirming; both see "message deleted".
    action(&alice, typo, "delete").await;
    click(&alice, "#confirm-delete").await;
    wait_for_text(&bob, &format!("#m{typo} .text"), |t| t == "message deleted").await;
    wait_for_text(&alice, &format!("#m{typo} .text"), |t| t == "message deleted").await;

    // Markdown renders; hostile markup stays text, in the live view and on the history page.
    let hostile = "**bold** _it_ `code` <script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> [x](javascript:window.pwned=3) https://example.com/path";
    fill(&alice, "#text", hostile).await;
    click(&alice, "#composer button[type=submit]").await;
    let hostile_at = wait_js(&bob, "const r = [...document.querySelectorAll('#messages li')].find(li => li.querySelector('.text strong')); return r ? Number(r.dataset.position) : 0", "the markdown message").await.as_i64().unwrap();
    let checks = format!(
        "const t = document.querySelector('#m{hostile_at} .text'); const a = t.querySelector('a[href^=\"https://example.com\"]');\
         return [t.querySelector('strong')?.textContent, t.querySelector('em')?.textContent, t.querySelector('code')?.textContent,\
         t.querySelectorAll('script, img, [onerror]').length, t.querySelectorAll('a[href^=\"javascript\"]').length,\
         a?.rel, a?.target, window.pwned === undefined, t.textContent.includes('<script>')]"
    );
    let expected = json!(["bold", "it", "code", 0, 0, "noopener noreferrer", "_blank", true, true]);
    assert_eq!(js(&bob, &checks).await, expected, "live view");

    // A pasted image: a thumbnail in the list, and the full picture in a lightbox.
    let picture = natter_test_support::images::png(640, 480);
    hand_over(&alice, "paste", "pasted.png", "image/png", &picture).await;
    alice.wait().for_element(Locator::Css("#attachment.ready")).await.expect("the paste uploads");
    fill(&alice, "#text", "pasted\n").await;
    let image_at = wait_js(&bob, "const i = document.querySelector('#messages a.file.image img[alt=\"pasted.png\"]'); return i && i.naturalWidth ? Number(i.closest('li').dataset.position) : 0", "the thumbnail").await.as_i64().unwrap();
    click(&bob, &format!("#m{image_at} a.file.image")).await;
    wait_js(&bob, "const d = document.getElementById('lightbox'); return d.open && d.querySelector('img').naturalWidth === 640", "the lightbox").await;
    click(&bob, "#lightbox button").await;

    // A dropped PDF: a card with its name, size and type.
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".repeat(40);
    hand_over(&bob, "drop", "minutes.pdf", "application/pdf", &pdf).await;
    bob.wait().for_element(Locator::Css("#attachment.ready")).await.expect("the drop uploads");
    click(&bob, "#composer button[type=submit]").await;
    let card =
        wait_for_text(&alice, "#messages li:last-child a.file.card", |t| t.contains("minutes.pdf")).await;
    assert!(card.contains("application/pdf") && card.contains("KB"), "{card}");

    // The message host goes away mid-conversation (distributed: the pod the pages use is killed):
    // what Bob sends shows as sending, and arrives once when it is back.
    if stack.kafka.is_some() {
        stack.kill_message_pod(0).await;
        wait_js(&bob, "return !document.getElementById('banner').hidden", "the disconnected banner").await;
        fill(&bob, "#text", "sent while down 1\n").await;
        fill(&bob, "#text", "sent while down 2\n").await;
        wait_for_text(&bob, "#outbox", |t| t.matches("sending").count() == 2).await;
        stack.restart_message_pod(0).await;
        for page in [&alice, &bob] {
            wait_js(page, "return [...document.querySelectorAll('#messages li')].some(li => li.textContent.includes('sent while down 2'))", "delivered after the restart").await;
            let copies = js(page, "return [...document.querySelectorAll('#messages .text')].filter(t => t.textContent.startsWith('sent while down')).length").await;
            assert_eq!(copies, json!(2), "each once");
        }
        wait_for_text(&bob, "#outbox", |t| t.is_empty()).await;
    }

    // A long unbroken word must not widen the page. Then both layouts: no sideways scrolling, the
    // composer on screen, screenshots, and axe-core.
    fill(&alice, "#text", &format!("{}\n", "w".repeat(600))).await;
    wait_js(&bob, "return [...document.querySelectorAll('#messages .text')].some(t => t.textContent.startsWith('wwwwwwwwww'))", "the long word").await;
    let shots = screenshots();
    let mode = if stack.kafka.is_some() { "distributed" } else { "standalone" };
    for (width, height) in [(1280u32, 800u32), (390, 844)] {
        bob.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let layout = js(&bob, "const d = document.documentElement; const c = document.getElementById('composer').getBoundingClientRect();\
             return [d.scrollWidth <= d.clientWidth, document.body.scrollWidth <= d.clientWidth, c.bottom <= window.innerHeight + 1, c.height > 0, window.innerWidth]").await;
        assert_eq!(
            layout.as_array().unwrap()[..4],
            [json!(true), json!(true), json!(true), json!(true)],
            "layout at {width}x{height}: {layout}"
        );
        let png = bob.screenshot().await.unwrap();
        std::fs::write(shots.join(format!("room-{mode}-{width}x{height}.png")), png).unwrap();
    }
    bob.set_window_size(1280, 800).await.unwrap();
    let report = axe_violations(&bob).await;
    assert_eq!(report, json!([]), "axe-core: serious or critical violations on the room page");

    // The history page renders the same Markdown, and keeps the hostile parts as text.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        bob.goto(&format!("{}{room_path}/history", stack.web_url)).await.unwrap();
        let found = js(&bob, "return [...document.querySelectorAll('.history .text strong')].length").await;
        if found == json!(1) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the history page never showed the markdown message");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let history_checks = "const t = document.querySelector('.history .text strong').closest('.text'); const a = t.querySelector('a[href^=\"https://example.com\"]');\
         return [t.querySelector('strong')?.textContent, t.querySelector('em')?.textContent, t.querySelector('code')?.textContent,\
         t.querySelectorAll('script, img, [onerror]').length, t.querySelectorAll('a[href^=\"javascript\"]').length,\
         a?.rel, a?.target, window.pwned === undefined, t.textContent.includes('<script>')]";
    assert_eq!(js(&bob, history_checks).await, expected, "history page");

    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

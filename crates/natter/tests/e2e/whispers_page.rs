//! Whispers in the chat client, three people in headless Chromium: Ann types `/w @ben ...`; Ben sees
//! it marked as a whisper to him, Ann as hers to Ben, and Cat, in the same room, sees nothing, also
//! after a reload (where Ann and Ben read it back from history). Ben answers through Ann's profile
//! card ("Whisper"). Screenshots at both sizes and axe-core with whispers on screen. Ben reports
//! Ann's whisper, and the room's owner finds it in the manage panel.

use serde_json::json;

use crate::app_shell::check_layouts;
use crate::browser::{
    browser, chromedriver, click, create_room, fill, js, say, sign_up, wait_for_path, wait_js,
};
use crate::stack::Stack;

/// A script returning the texts of the whisper rows on the page.
const WHISPERS: &str = "return [...document.querySelectorAll('#messages li.whisper')].map(r => r.querySelector('.whisper-label').textContent + ' | ' + r.querySelector('.text').textContent)";

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let (ann, ben, cat) = (browser(&driver).await, browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();
    let (ann_name, ben_name, cat_name) =
        (format!("ann_{suffix}"), format!("ben_{suffix}"), format!("cat_{suffix}"));
    sign_up(&ann, &stack.web_url, &ann_name).await;
    let room_path = create_room(&ann, "whisper corner").await;
    let room: i64 = room_path.trim_start_matches("/rooms/").parse().unwrap();
    for (who, name) in [(&ben, &ben_name), (&cat, &cat_name)] {
        sign_up(who, &stack.web_url, name).await;
        click(who, &format!("form[action='/rooms/{room}/join'] button")).await;
        wait_for_path(who, &room_path).await;
    }
    // Ann's page lists the people who joined after it loaded once it is reloaded.
    ann.refresh().await.unwrap();
    for who in [&ann, &ben, &cat] {
        wait_js(who, "return document.getElementById('status')?.textContent === 'live'", "live").await;
    }
    say(&ann, "hello everyone").await;
    for who in [&ben, &cat] {
        wait_js(
            who,
            "return document.querySelector('#messages').textContent.includes('hello everyone')",
            "hello",
        )
        .await;
    }

    say(&ann, &format!("/w @{ben_name} the demo is at 3, keep it quiet")).await;
    let at_ben = wait_js(
        &ben,
        &format!("const w = (() => {{ {WHISPERS} }})(); return w.length === 1 && w"),
        "ben's whisper",
    )
    .await;
    assert_eq!(at_ben, json!([format!("🔒 {ann_name} whispers to you | the demo is at 3, keep it quiet")]));
    let at_ann = wait_js(
        &ann,
        &format!("const w = (() => {{ {WHISPERS} }})(); return w.length === 1 && w"),
        "ann's whisper",
    )
    .await;
    assert_eq!(at_ann, json!([format!("🔒 Whisper to {ben_name} | the demo is at 3, keep it quiet")]));
    assert_eq!(
        js(&ann, "return document.getElementById('text').value").await,
        json!(""),
        "the composer is cleared"
    );

    // Ben answers from Ann's profile card.
    js(&ben, &format!("[...document.querySelectorAll('#people li')].find(l => l.dataset.username === '{ann_name}').querySelector('button.person').click()")).await;
    click(&ben, "#profile-whisper").await;
    let prefilled = js(&ben, "return document.getElementById('text').value").await;
    assert_eq!(prefilled, json!(format!("/w @{ann_name} ")));
    fill(&ben, "#text", "ok, see you").await;
    click(&ben, "#composer button[type=submit]").await;
    wait_js(&ann, &format!("const w = (() => {{ {WHISPERS} }})(); return w.length === 2"), "ben's answer")
        .await;

    // Cat sees the room message and no whisper, live or after a reload; Ben reads them back.
    say(&ann, "back to the room").await;
    wait_js(
        &cat,
        "return document.querySelector('#messages').textContent.includes('back to the room')",
        "room message",
    )
    .await;
    for who in [&cat, &ben] {
        who.refresh().await.unwrap();
        wait_js(
            who,
            "return document.querySelector('#messages').textContent.includes('back to the room')",
            "reloaded",
        )
        .await;
    }
    let cat_page = js(&cat, "return document.getElementById('messages').textContent").await;
    assert!(
        !cat_page.as_str().unwrap().contains("demo") && !cat_page.as_str().unwrap().contains("see you"),
        "{cat_page}"
    );
    assert_eq!(js(&cat, WHISPERS).await, json!([]));
    let after_reload = wait_js(
        &ben,
        &format!("const w = (() => {{ {WHISPERS} }})(); return w.length === 2 && w"),
        "ben's whispers from history",
    )
    .await;
    assert!(after_reload[1].as_str().unwrap().ends_with("| ok, see you"), "{after_reload}");
    // The whispers sit between the room messages they were sent among.
    let order = js(&ben, "return [...document.querySelectorAll('#messages li')].map(r => r.classList.contains('whisper') ? 'w' : 'm').join('')").await;
    assert_eq!(order, json!("mwwm"), "hello, two whispers, back to the room");

    // A bad command says how to whisper.
    say(&ann, "/w").await;
    let problem =
        wait_js(&ann, "return document.getElementById('errors').textContent || false", "usage").await;
    assert!(problem.as_str().unwrap().contains("/w @name"), "{problem}");

    let mode = if stack.kafka.is_some() { "distributed" } else { "standalone" };
    check_layouts(&ben, "whispers", mode).await;

    // Ben reports Ann's whisper; the room's owner finds it in the manage panel as it was said.
    js(&ben, "document.querySelector('#messages li.whisper:not(.mine) .action-report').click()").await;
    wait_js(&ben, "return document.getElementById('report-dialog').open", "the report dialog").await;
    fill(&ben, "#report-reason", "not meant for me").await;
    click(&ben, "#confirm-report").await;
    wait_js(&ben, "return document.getElementById('errors').textContent.startsWith('Reported')", "reported")
        .await;
    ann.goto(&format!("{}/rooms/{room}/manage", stack.web_url)).await.unwrap();
    let listed =
        wait_js(&ann, "return document.getElementById('reports-list')?.textContent || false", "reports")
            .await;
    let listed = listed.as_str().unwrap();
    assert!(
        listed.contains("the demo is at 3, keep it quiet") && listed.contains("not meant for me"),
        "{listed}"
    );
}

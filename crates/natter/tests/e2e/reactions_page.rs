//! Reactions in the chat client, two people in headless Chromium: Ann opens the picker from a
//! message's actions and picks 🎉; the chip shows on both screens (pressed only for her), Ben adds
//! his by clicking the chip, and hovering names who reacted; Ann takes hers back. Mentions: Ann types
//! "@" and the first letters of Ben's name, picks him from the list with Enter, sends, and Ben sees
//! the message marked as mentioning him. Screenshots at both sizes, axe-core on the room with
//! reactions and a mention.

use serde_json::json;

use crate::app_shell::check_layouts;
use crate::browser::{browser, chromedriver, click, create_room, js, say, sign_up, wait_for_path, wait_js};
use crate::stack::Stack;

/// A script setting `c` to the chips of the message at `position` as `[emoji, count, pressed,
/// title]`, then returning `test` (a JavaScript expression over `c`).
fn chips(position: i64, test: &str) -> String {
    format!(
        "const c = [...document.querySelectorAll(\"#messages li[data-position='{position}'] button.reaction\")]
            .map(b => [b.dataset.emoji, b.querySelector('.count').textContent, b.getAttribute('aria-pressed'), b.title]);
         return {test};"
    )
}

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let (ann, ben) = (browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();
    let (ann_name, ben_name) = (format!("ann_{suffix}"), format!("ben_{suffix}"));
    sign_up(&ann, &stack.web_url, &ann_name).await;
    let room_path = create_room(&ann, "emoji club").await;
    sign_up(&ben, &stack.web_url, &ben_name).await;
    let room: i64 = room_path.trim_start_matches("/rooms/").parse().unwrap();
    click(&ben, &format!("form[action='/rooms/{room}/join'] button")).await;
    wait_for_path(&ben, &room_path).await;
    for who in [&ann, &ben] {
        wait_js(who, "return document.getElementById('status')?.textContent === 'live'", "live").await;
    }
    say(&ben, "who is in for pizza?").await;
    let position = wait_js(
        &ann,
        "const li = [...document.querySelectorAll('#messages li[data-position]')].find(l => l.textContent.includes('pizza')); return li ? Number(li.dataset.position) : null",
        "ben's message at ann's",
    )
    .await
    .as_i64()
    .unwrap();
    let row = format!("#messages li[data-position='{position}']");
    ann.execute(&format!("document.querySelector(\"{row} .msg\").dispatchEvent(new MouseEvent('mouseover', {{bubbles: true}}))"), vec![]).await.unwrap();
    js(&ann, &format!("document.querySelector(\"{row} .action-react\").click()")).await;
    wait_js(&ann, "return !document.querySelector('.reaction-picker').hidden", "the picker opens").await;
    let focused = js(&ann, "return document.activeElement?.dataset.emoji").await;
    assert_eq!(focused, json!("👍"), "the first emoji has the focus");
    click(&ann, ".reaction-picker button[data-emoji='🎉']").await;
    wait_js(&ann, "return document.querySelector('.reaction-picker').hidden", "the picker closes").await;

    wait_js(&ann, &chips(position, "c.length === 1 && c[0][1] === '1'"), "ann's chip").await;
    let seen = wait_js(&ben, &chips(position, "c.length === 1 && c[0][1] === '1' && c"), "ben sees it").await;
    assert_eq!(seen[0][2], json!("false"), "not pressed for ben: {seen}");
    assert!(seen[0][3].as_str().unwrap().contains(&ann_name), "who reacted: {seen}");
    let at_ann = js(&ann, &chips(position, "c")).await;
    assert_eq!((at_ann[0][0].as_str(), at_ann[0][2].as_str()), (Some("🎉"), Some("true")), "{at_ann}");

    // Ben adds his by clicking the chip: two, pressed for him, and named for Ann.
    click(&ben, &format!("{row} button.reaction")).await;
    let both = wait_js(&ann, &chips(position, "c[0]?.[1] === '2' && c"), "two").await;
    assert!(both[0][3].as_str().unwrap().starts_with(&format!("{ben_name} and You")), "{both}");
    wait_js(&ben, &chips(position, "c[0]?.[2] === 'true'"), "pressed for ben").await;

    // Ann mentions Ben with the composer's list; his screen marks the message.
    crate::browser::fill(&ann, "#text", &format!("@{}", &ben_name[..5])).await;
    let listed = wait_js(
        &ann,
        "const l = document.getElementById('mention-list'); return !l.hidden && l.textContent",
        "the list",
    )
    .await;
    assert!(listed.as_str().unwrap().contains(&ben_name), "{listed}");
    crate::browser::fill(&ann, "#text", "\u{e007}").await;
    let typed = js(&ann, "return document.getElementById('text').value").await;
    assert_eq!(typed, json!(format!("@{ben_name} ")), "Enter puts the name in");
    crate::browser::fill(&ann, "#text", "can you bring napkins?\u{e007}").await;
    wait_js(
        &ben,
        "return [...document.querySelectorAll('#messages li.mentions-me')].some(l => l.textContent.includes('napkins'))",
        "marked as mentioning ben",
    )
    .await;
    let at_ann = js(&ann, "return document.querySelectorAll('#messages li.mentions-me').length").await;
    assert_eq!(at_ann, json!(0), "not marked for its sender");
    check_layouts(&ben, "reactions", "standalone").await;

    // Ann takes hers back.
    click(&ann, &format!("{row} button.reaction")).await;
    wait_js(&ben, &chips(position, "c[0]?.[1] === '1'"), "one again").await;
    wait_js(&ann, &chips(position, "c[0]?.[2] === 'false'"), "not pressed").await;

    // A reload shows what history says (the reader's own marked).
    ben.refresh().await.unwrap();
    wait_js(&ben, &chips(position, "c[0]?.[1] === '1' && c[0]?.[2] === 'true'"), "after a reload").await;
}

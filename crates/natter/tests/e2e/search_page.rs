//! The search box as a person uses it in headless Chromium: words typed in the sidebar's box lead to
//! the results page, which marks the matching words (a message's markup stays text), names each
//! room and sender, and opens the room at the message when a hit is clicked; the quick switcher
//! offers the same search. Both layouts and axe-core on the results page.

use std::time::Duration;

use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::json;

use crate::app_shell::check_layouts;
use crate::browser::{
    browser, chromedriver, click, create_room, fill, js, say, sign_up, wait_for_path, wait_js,
};
use crate::stack::Stack;

/// Searches `q` with the sidebar's box until the results page lists `count` hits (the indexer
/// follows the bus, so a message just sent may take a moment to be found).
async fn search_until(client: &Client, q: &str, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        fill(client, ".sidebar-search input[name=q]", &format!("{q}{}", Key::Enter)).await;
        wait_for_path(client, "/search").await;
        let shown = js(client, "return document.querySelectorAll('#search-hits li').length").await;
        if shown == json!(count) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "searching {q:?} still shows {shown} hits");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let ann = browser(&driver).await;
    let name = format!("ann_{}", natter_test_support::unique_suffix());
    sign_up(&ann, &stack.web_url, &name).await;
    let room_path = create_room(&ann, "lunch club").await;
    wait_js(&ann, "return document.getElementById('status')?.textContent === 'live'", "live").await;
    say(&ann, "first, something else entirely").await;
    say(&ann, "회의는 내일, then lunch at <b>noon</b>").await;
    say(&ann, "Is lunch still on?").await;
    wait_js(&ann, "return document.querySelectorAll('#messages li[data-position]').length >= 3", "sent")
        .await;

    search_until(&ann, "lunch", 2).await;
    let summary = js(&ann, "return document.getElementById('search-summary').textContent").await;
    assert!(summary.as_str().unwrap().contains("Results 1–2"), "{summary}");
    let hits = js(
        &ann,
        "return [...document.querySelectorAll('#search-hits li')].map(li => ({
            marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
            room: li.querySelector('.hit-room').textContent,
            sender: li.querySelector('.hit-sender').textContent,
            text: li.querySelector('.hit-text').textContent,
            bold: li.querySelectorAll('.hit-text b').length,
            href: li.querySelector('a').getAttribute('href'),
        }))",
    )
    .await;
    let hits = hits.as_array().unwrap();
    for hit in hits {
        assert_eq!(hit["marks"], json!(["lunch"]), "{hit}");
        assert_eq!(
            (hit["room"].as_str(), hit["sender"].as_str()),
            (Some("#lunch club"), Some("You")),
            "{hit}"
        );
        assert_eq!(hit["bold"], json!(0), "a message's markup is never markup: {hit}");
    }
    let noon =
        hits.iter().find(|h| h["text"].as_str().unwrap().contains("<b>noon</b>")).expect("the noon hit");
    check_layouts(&ann, "search", "standalone").await;

    // A Korean word by its stem, marked as typed.
    search_until(&ann, "회의", 1).await;
    let marks =
        js(&ann, "return [...document.querySelectorAll('#search-hits mark')].map(m => m.textContent)").await;
    assert_eq!(marks, json!(["회의"]));

    // A quoted phrase must be side by side: "lunch still" is, "lunch noon" is not.
    search_until(&ann, "\"lunch still\"", 1).await;
    search_until(&ann, "\"lunch noon\"", 0).await;
    let empty = js(&ann, "return document.getElementById('search-summary').textContent").await;
    assert!(empty.as_str().unwrap().contains("No messages match"), "{empty}");

    // A hit opens the room at that message, marked for a moment.
    search_until(&ann, "noon", 1).await;
    let href = noon["href"].as_str().unwrap();
    let position = href.rsplit("#m").next().unwrap().to_owned();
    assert!(href.starts_with(&format!("{room_path}#m")), "{href}");
    click(&ann, "#search-hits a.hit").await;
    wait_for_path(&ann, &room_path).await;
    wait_js(
        &ann,
        &format!("return document.querySelector(\"#messages li[data-position='{position}']\")?.classList.contains('flash')"),
        "the found message is shown and marked",
    )
    .await;

    // The quick switcher's last choice searches messages for what was typed.
    js(&ann, "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true }))").await;
    fill(&ann, "#switcher-input", "still on").await;
    let last =
        js(&ann, "return [...document.querySelectorAll('#switcher-results li')].at(-1).textContent").await;
    assert!(last.as_str().unwrap().contains("Search messages for “still on”"), "{last}");
    js(&ann, "[...document.querySelectorAll('#switcher-results li')].at(-1).click()").await;
    wait_for_path(&ann, "/search").await;
    wait_js(
        &ann,
        "return document.querySelectorAll('#search-hits li').length === 1",
        "found from the switcher",
    )
    .await;
}

//! The friends page in headless Chromium, two people: Ann adds Ben by username; Ben, on another
//! page, sees the sidebar's badge count the request at once, opens Friends and accepts; Ann's page
//! then lists Ben, online. Ann chooses "friends only" for direct chats. Screenshots at both sizes
//! and axe-core.

use serde_json::json;

use crate::app_shell::check_layouts;
use crate::browser::{browser, chromedriver, click, fill, js, sign_up, wait_for_path, wait_js};
use crate::stack::Stack;

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let (ann, ben) = (browser(&driver).await, browser(&driver).await);
    let suffix = natter_test_support::unique_suffix();
    let (ann_name, ben_name) = (format!("ann_{suffix}"), format!("ben_{suffix}"));
    sign_up(&ann, &stack.web_url, &ann_name).await;
    sign_up(&ben, &stack.web_url, &ben_name).await;
    wait_js(&ben, "return document.getElementById('friend-requests')?.hidden === true", "no requests yet")
        .await;
    // Ben's page must be connected to hear of the request.
    wait_js(&ben, "return !!document.getElementById('sidebar')", "ben's app").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    ann.goto(&format!("{}/friends", stack.web_url)).await.unwrap();
    fill(&ann, "#friend-username", &ben_name).await;
    click(&ann, "#add-friend button").await;
    let waiting =
        wait_js(&ann, "return document.querySelector('#outgoing li')?.dataset.username || false", "waiting")
            .await;
    assert_eq!(waiting, json!(ben_name));

    // Ben's badge counts it without a reload.
    wait_js(
        &ben,
        "const b = document.getElementById('friend-requests'); return !b.hidden && b.textContent === '1'",
        "the badge",
    )
    .await;
    click(&ben, "#friends-link").await;
    wait_for_path(&ben, "/friends").await;
    click(&ben, &format!("#incoming li[data-username='{ann_name}'] button[value=accept]")).await;
    wait_js(
        &ben,
        &format!("return !!document.querySelector(\"#friends li[data-username='{ann_name}']\")"),
        "ann listed",
    )
    .await;

    // Ann's friends page (open) reloads itself and shows Ben online.
    let state = wait_js(
        &ann,
        &format!("const li = document.querySelector(\"#friends li[data-username='{ben_name}']\"); return li ? li.dataset.state : false"),
        "ben listed at ann's",
    )
    .await;
    assert_eq!(state, json!("online"));

    click(&ann, "#privacy-form input[value=friends]").await;
    click(&ann, "#privacy-form button").await;
    // Saved: the page the form post returns to, and every page after it, shows the choice.
    let checked = "return document.querySelector('#privacy-form input[value=friends]')?.checked === true";
    let mut saved = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        ann.refresh().await.unwrap();
        if js(&ann, checked).await == json!(true) {
            saved = true;
            break;
        }
    }
    assert!(saved, "friends only is saved");

    let mode = if stack.kafka.is_some() { "distributed" } else { "standalone" };
    check_layouts(&ann, "friends", mode).await;

    // "Message" starts (or opens) the direct chat with a friend.
    click(&ann, &format!("#friends li[data-username='{ben_name}'] .friend-message")).await;
    wait_js(
        &ann,
        "return location.pathname.startsWith('/rooms/') && !!document.getElementById('room')",
        "the direct chat",
    )
    .await;
}

//! The browser's half of push notifications, in headless Chromium: with notifications allowed, the
//! app page registers the service worker (`/sw.js`), and a push delivered to it (DevTools
//! `ServiceWorker.deliverPushMessage`, standing in for the browser's push service, which cannot be
//! reached here) is shown as a notification with the room's title, the body, one tag per room and
//! the link to the message.

use std::time::Duration;

use serde_json::json;

use crate::browser::{browser, cdp, chromedriver, js, sign_up, wait_js};
use crate::stack::Stack;

pub async fn run(stack: Stack) {
    let driver = chromedriver().await;
    let ann = browser(&driver).await;
    sign_up(&ann, &stack.web_url, &format!("ann_{}", natter_test_support::unique_suffix())).await;
    cdp(&ann, "Browser.grantPermissions", json!({"origin": stack.web_url, "permissions": ["notifications"]}))
        .await
        .expect("notifications allowed");
    // With permission, every page keeps the worker and the subscription (the subscription itself
    // needs the browser's push service, which is not reachable here; the worker does not).
    ann.refresh().await.unwrap();
    wait_js(
        &ann,
        "return navigator.serviceWorker.getRegistration().then(r => !!r && !!r.active && r.active.state === 'activated' && r.active.scriptURL.endsWith('/sw.js'))",
        "the service worker is active",
    )
    .await;

    let payload = json!({
        "room": 7, "title": "release train", "body": "ann: @ben can you tag it?", "count": 1,
        "url": "/rooms/7#m12", "tag": "natter-room-7",
    });
    // Registration ids count up per profile; this fresh profile has one.
    cdp(&ann, "ServiceWorker.enable", json!({})).await.expect("ServiceWorker domain");
    let mut delivered = None;
    let mut errors = Vec::new();
    for id in 0..5 {
        let params =
            json!({"origin": stack.web_url, "registrationId": id.to_string(), "data": payload.to_string()});
        match cdp(&ann, "ServiceWorker.deliverPushMessage", params).await {
            Ok(_) => {
                delivered = Some(id);
                break;
            }
            Err(e) => errors.push(e),
        }
    }
    assert!(delivered.is_some(), "a push reached the worker: {errors:?}");
    // Asked at once, a headless Chromium sometimes never lists the notification its worker is
    // still showing; a moment later it always does.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = wait_js(
        &ann,
        "return navigator.serviceWorker.getRegistration()
            .then(r => r.getNotifications())
            .then(ns => ns.length > 0 && ns.map(n => [n.title, n.body, n.tag, n.data && n.data.url]))",
        "the notification is shown",
    )
    .await;
    assert_eq!(
        shown,
        json!([["release train", "ann: @ben can you tag it?", "natter-room-7", "/rooms/7#m12"]]),
        "{shown}"
    );
    // A newer push for the same room replaces it (one per room on the device).
    let newer = json!({"title": "release train", "body": "ann: doors closing", "url": "/rooms/7#m13", "tag": "natter-room-7"});
    let params = json!({"origin": stack.web_url, "registrationId": delivered.unwrap().to_string(), "data": newer.to_string()});
    cdp(&ann, "ServiceWorker.deliverPushMessage", params).await.expect("second push");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shown = js(
        &ann,
        "return navigator.serviceWorker.getRegistration().then(r => r.getNotifications()).then(ns => ns.map(n => n.body))",
    )
    .await;
    assert_eq!(shown, json!(["ann: doors closing"]), "replaced, not stacked");
}

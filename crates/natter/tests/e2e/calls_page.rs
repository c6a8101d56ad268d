//! A call in the chat client: two headless Chromium instances with a fake camera and microphone
//! (`--use-fake-device-for-media-stream`), on the distributed stack each talking to a **different
//! message pod** (Ben's page has its WebSocket pointed at pod 1 by a script the test adds before the
//! page loads, with the page's CSP bypassed, as web advertises one message host). Ann starts a call; Ben sees it before joining; he joins with video; both peer
//! connections reach `connected` through Natter's signalling (loopback ICE, no TURN) and the media
//! bytes they receive keep growing. Ben mutes and Ann's tile of him says so. Screenshots at both
//! sizes and axe-core with the call going on. Then Ben's pod is killed: his tile leaves Ann's call
//! within the presence lease; when it is back, Ben's page reconnects and rejoins by itself.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::app_shell::check_layouts;
use crate::browser::{
    browser_with, cdp, chromedriver, click, create_room, js, sign_up, wait_for_path, wait_js,
};
use crate::stack::Stack;

/// A script returning the inbound media bytes of the tile of the other participant at a page
/// (`null` until its connection is up).
const BYTES_IN: &str = "const t = document.querySelector('.call-tile:not(.mine)[data-state=connected][data-bytes-in]'); return t ? Number(t.dataset.bytesIn) : null";

pub async fn run(mut stack: Stack) {
    let distributed = stack.kafka.is_some();
    let driver = chromedriver().await;
    let fake = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"].map(String::from);
    let (ann, ben) = (browser_with(&driver, &fake).await, browser_with(&driver, &fake).await);
    if distributed {
        let script = format!(
            "(() => {{ const W = window.WebSocket; window.WebSocket = class extends W {{
                constructor(url, protocols) {{ const to = String(url).replace({from:?}, {to:?}); super(to, protocols); window.natterTestSocket = to; }}
            }}; }})();",
            from = stack.message_urls[0],
            to = stack.message_urls[1],
        );
        cdp(&ben, "Page.addScriptToEvaluateOnNewDocument", json!({"source": script}))
            .await
            .expect("script added");
    }
    let suffix = natter_test_support::unique_suffix();
    let (ann_name, ben_name) = (format!("ann_{suffix}"), format!("ben_{suffix}"));
    sign_up(&ann, &stack.web_url, &ann_name).await;
    let room_path = create_room(&ann, "standup").await;
    sign_up(&ben, &stack.web_url, &ben_name).await;
    if distributed {
        // The page's Content-Security-Policy allows the configured message host (pod 0) only. Set once
        // a page of the site is open: Chromium forgets it when a navigation changes the renderer.
        cdp(&ben, "Page.setBypassCSP", json!({"enabled": true})).await.expect("CSP bypassed");
    }
    let room: i64 = room_path.trim_start_matches("/rooms/").parse().unwrap();
    click(&ben, &format!("form[action='/rooms/{room}/join'] button")).await;
    wait_for_path(&ben, &room_path).await;
    for who in [&ann, &ben] {
        wait_js(who, "return document.getElementById('status')?.textContent === 'live'", "live").await;
    }
    if distributed {
        let socket = js(&ben, "return window.natterTestSocket ?? null").await;
        assert!(
            socket.as_str().is_some_and(|s| s.starts_with(&stack.message_urls[1])),
            "ben on pod 1: {socket}"
        );
    }
    assert_eq!(js(&ben, "return document.getElementById('call').hidden").await, json!(true), "no call yet");

    // Ann starts a call with her camera; Ben sees it before joining.
    click(&ann, "#call-start").await;
    wait_js(
        &ann,
        "return document.querySelector('#call.joined .call-tile.mine video:not([hidden])') !== null",
        "ann's preview",
    )
    .await;
    let summary = wait_js(
        &ben,
        "const c = document.getElementById('call'); return !c.hidden && c.querySelector('.call-summary').textContent",
        "ben sees the call",
    )
    .await;
    assert_eq!(summary, json!(format!("{ann_name} is in a call")));

    let joined = Instant::now();
    click(&ben, "#call .call-join-video").await;
    for (who, what) in [(&ann, "ann's connection to ben"), (&ben, "ben's connection to ann")] {
        wait_js(
            who,
            "return document.querySelector('.call-tile:not(.mine)[data-state=connected]') !== null",
            what,
        )
        .await;
    }
    println!("calls page: connected {:?} after Ben clicked Join", joined.elapsed());
    // Media flows both ways, and keeps flowing.
    for who in [&ann, &ben] {
        let first = wait_js(
            who,
            &format!("const b = (() => {{ {BYTES_IN} }})(); return b > 0 && b"),
            "media arriving",
        )
        .await;
        let first = first.as_f64().unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let later = js(who, BYTES_IN).await.as_f64().unwrap();
        assert!(later > first, "inbound bytes grow: {first} then {later}");
        let video = js(who, "const v = document.querySelector('.call-tile:not(.mine) video'); return v && !v.hidden && v.videoWidth > 0").await;
        assert_eq!(video, json!(true), "the other's camera shows");
    }

    // Ben mutes: Ann's tile of him says so.
    click(&ben, "#call .call-mute").await;
    wait_js(
        &ann,
        "return document.querySelector('.call-tile:not(.mine) .call-name')?.textContent.includes('muted')",
        "muted shows",
    )
    .await;
    assert_eq!(
        js(&ben, "return document.querySelector('#call .call-mute').textContent").await,
        json!("Unmute")
    );

    let mode = if distributed { "distributed" } else { "standalone" };
    check_layouts(&ann, "call", mode).await;

    if !distributed {
        click(&ben, "#call .call-leave").await;
        wait_js(&ann, "return document.querySelectorAll('.call-tile').length === 1", "ben left").await;
        return;
    }
    // Ben's pod dies: he leaves Ann's call within the lease.
    let killed = Instant::now();
    stack.kill_message_pod(1).await;
    wait_js(&ann, "return document.querySelectorAll('.call-tile').length === 1", "ben's tile goes").await;
    println!("calls page: a killed pod's participant left after {:?}", killed.elapsed());

    // The pod comes back: Ben's page reconnects and rejoins the call by itself, with a new session,
    // and the two are connected again.
    let restarted = Instant::now();
    stack.restart_message_pod(1).await;
    for (who, what) in [(&ann, "ann reconnected to ben"), (&ben, "ben rejoined")] {
        wait_js(
            who,
            "return document.querySelector('.call-tile:not(.mine)[data-state=connected]') !== null",
            what,
        )
        .await;
    }
    println!("calls page: back in the call {:?} after the pod restarted", restarted.elapsed());
    assert_eq!(js(&ann, "return document.querySelectorAll('.call-tile').length").await, json!(2));
}

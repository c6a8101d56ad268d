//! Sessions live on the server and are shared by every web pod: a session made on one pod works on
//! the other, survives a pod restart, and logging out ends it for every copy of the cookie.

use reqwest::StatusCode;

use crate::client::{Browser, Connect, connect};
use crate::stack::Stack;

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("natter_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("login sets the session cookie")
}

/// What a second device holding a copy of the cookie sees at `/rooms` on `web_url`.
async fn with_copied_cookie(web_url: &str, cookie: &str) -> StatusCode {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .get(format!("{web_url}/rooms"))
        .header("cookie", format!("natter_session={cookie}"))
        .send()
        .await
        .unwrap();
    response.status()
}

pub async fn run(mut stack: Stack) {
    let name = format!("fern_{}", natter_test_support::unique_suffix());
    let fern = Browser::new(&stack.web_url);
    fern.sign_up(&name, "correct horse battery").await;
    let login = fern.log_in(&name, "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&login);

    for url in &stack.web_urls {
        assert_eq!(with_copied_cookie(url, &cookie).await, StatusCode::OK, "session valid on {url}");
    }
    if stack.web_urls.len() > 1 {
        stack.restart_web(0).await;
        assert_eq!(
            with_copied_cookie(&stack.web_urls[0], &cookie).await,
            StatusCode::OK,
            "survives a restart"
        );
    }

    let token = fern.ws_token().await;
    let out = fern.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    for url in &stack.web_urls {
        assert_eq!(
            with_copied_cookie(url, &cookie).await,
            StatusCode::SEE_OTHER,
            "logout ends the session on {url} for every copy of the cookie"
        );
    }

    // Message pods verify tokens with keys they already hold: web being down does not lock people out.
    if stack.web_urls.len() > 1 {
        for index in 0..stack.web_urls.len() {
            stack.stop_web(index).await;
        }
        let accepted = connect(&stack.message_urls[1], Some(&token), None).await;
        assert!(matches!(accepted, Connect::Open(_)), "a valid token is accepted while web is down");
    }
}

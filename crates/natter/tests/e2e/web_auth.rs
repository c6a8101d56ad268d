//! Accounts and access on web, as a visitor, a member and another service see them.

use reqwest::StatusCode;

use crate::client::{Browser, location};
use crate::stack::Stack;

async fn dora_profile(browser: &Browser, fields: &[(&str, &str)]) -> StatusCode {
    browser.post_form("/settings/profile", fields).await.status()
}

pub async fn run(stack: Stack) {
    let suffix = natter_test_support::unique_suffix();
    let name = format!("dora_{suffix}");
    let dora = Browser::new(&stack.web_url);

    // Sign-up rules, with messages a person can act on.
    let short = dora.post_form("/signup", &[("username", "ab"), ("password", "long enough pass")]).await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(short.text().await.unwrap().contains("Usernames are 3 to 32 characters long."));
    let weak = dora.post_form("/signup", &[("username", &name), ("password", "short")]).await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    assert!(weak.text().await.unwrap().contains("Passwords are 8 to 128 characters long."));
    dora.sign_up(&name, "long enough pass").await;
    let cookie_header = dora.post_form("/logout", &[]).await;
    assert_eq!(location(&cookie_header), "/");
    let taken = dora
        .post_form("/signup", &[("username", &name.to_uppercase()), ("password", "long enough pass")])
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT, "usernames are unique regardless of case");

    // Wrong password and unknown user get the same answer.
    let wrong = dora.log_in(&name, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = dora.log_in(&format!("nobody_{suffix}"), "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.unwrap().replace(&format!("nobody_{suffix}"), &name), wrong_body);

    // The session cookie is HttpOnly and SameSite.
    let login = dora.log_in(&name, "long enough pass").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    // Form posts need this session's CSRF token.
    let missing = dora.post_form_raw("/rooms", &[("name", "sneaky")]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let stranger = Browser::new(&stack.web_url);
    let foreign = stranger.csrf().await;
    let forged = dora.post_form_raw("/rooms", &[("name", "sneaky"), ("csrf", &foreign)]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "another session's token does not work");
    assert_eq!(dora.post_form_raw("/logout", &[]).await.status(), StatusCode::FORBIDDEN);

    // Brute force: after 5 failures in the window, even the right password waits, and says how long.
    let erin = format!("erin_{suffix}");
    Browser::new(&stack.web_url).sign_up(&erin, "the right password").await;
    let attacker = Browser::new(&stack.web_url);
    for _ in 0..5 {
        assert_eq!(attacker.log_in(&erin, "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = attacker.log_in(&erin.to_uppercase(), "the right password").await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = blocked.text().await.unwrap();
    assert!(body.contains("Too many failed logins. Try again in"), "{body}");
    let other = Browser::new(&stack.web_url);
    assert_eq!(other.log_in(&name, "long enough pass").await.status(), StatusCode::SEE_OTHER, "per account");

    // Profile: display name and an https avatar; bad values are refused with the rule.
    let profile = [("display_name", "Dora the Explorer"), ("avatar_url", "https://example.com/dora.png")];
    assert_eq!(dora_profile(&other, &profile).await, StatusCode::SEE_OTHER);
    let (_, settings) = other.page("/settings").await;
    assert!(
        settings.contains(r#"value="Dora the Explorer""#)
            && settings.contains(r#"src="https://example.com/dora.png""#)
    );
    let (status, body) = other.page("/ws-token").await;
    assert_eq!(status, StatusCode::OK);
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let claims = token["token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap();
    assert!(
        String::from_utf8(claims).unwrap().contains("Dora the Explorer"),
        "messages carry the display name"
    );
    for bad in [
        [("display_name", "x"), ("avatar_url", "javascript:alert(1)")],
        [("display_name", "x"), ("avatar_url", "http://plain.example/a.png")],
    ] {
        assert_eq!(dora_profile(&other, &bad).await, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let long = "n".repeat(65);
    assert_eq!(dora_profile(&other, &[("display_name", &long)]).await, StatusCode::BAD_REQUEST);

    // Anonymous visitors are sent to log in; pages carry a CSP that allows only the message host.
    let anonymous = Browser::new(&stack.web_url);
    for path in ["/rooms", "/ws-token", "/rooms/1", "/rooms/1/history"] {
        let response = anonymous.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/");
    }
    let home = anonymous.get("/").await;
    let csp = home.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains(&format!("connect-src 'self' {}", stack.message_urls[0])), "{csp}");
    let (status, _) = dora.page("/rooms/999999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Internal endpoints: a member's session does not open them, the service token does.
    let internal = "/internal/rooms/1/members/1";
    assert_eq!(dora.get(internal).await.status(), StatusCode::UNAUTHORIZED);
    let http = reqwest::Client::new();
    let with =
        |token: &str| http.get(format!("{}{internal}", stack.web_url)).bearer_auth(token.to_owned()).send();
    assert_eq!(with("wrong-token").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(with(&stack.internal_token).await.unwrap().status(), StatusCode::OK);
    let presence = http
        .get(format!("{}/internal/presence?members=1", stack.presence_url))
        .bearer_auth("wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(presence.status(), StatusCode::UNAUTHORIZED);

    // Public keys are published for message pods.
    let jwks: serde_json::Value = http
        .get(format!("{}/.well-known/jwks.json", stack.web_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert!(jwks["keys"][0].get("d").is_none(), "no private key material");

    // Sign-ups per address are limited (usernames are public; this bounds probing for them).
    let prober = Browser::new(&stack.web_url);
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        last = prober.post_form("/signup", &[("username", "ab"), ("password", "x")]).await.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "sign-up attempts are limited per address");
}

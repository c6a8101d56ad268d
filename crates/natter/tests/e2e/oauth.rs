//! OAuth2 login against a real authorization server running in the test (see `oauth_server`): the
//! full redirect, callback and token exchange; first login creates a member, later ones find it; a
//! member links two providers; wrong state, a replayed code, a provider error and linking someone
//! else's account are refused.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::client::{Browser, location};
use crate::oauth_server::OAuthServer;
use crate::stack::Stack;

fn setup() -> (OAuthServer, Vec<(String, String)>) {
    let server = OAuthServer::start(&[("natter-test", "s3cret-test"), ("natter-corp", "s3cret-corp")]);
    let mut env = vec![("NATTER_OAUTH_PROVIDERS".to_owned(), "test,corp".to_owned())];
    env.extend(server.web_env("test", "natter-test", "s3cret-test"));
    env.extend(server.web_env("corp", "natter-corp", "s3cret-corp"));
    (server, env)
}

pub async fn run_distributed() {
    let (server, env) = setup();
    run(Stack::distributed_with(env).await, server).await;
}

pub async fn run_standalone() {
    let (server, env) = setup();
    run(Stack::standalone_with(env).await, server).await;
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .to_owned()
}

/// The provider's consent: follows web's redirect to the provider and returns the callback URL the
/// provider sends the browser back to, as a path on web.
async fn consent(stack: &Stack, start: reqwest::Response) -> String {
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let answer = http.get(&authorize).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND, "the provider redirects back");
    location(&answer).strip_prefix(&stack.web_url).expect("back to web's public URL").to_owned()
}

/// Logs in with `provider` as the provider account currently signed in at the server.
async fn log_in_with(stack: &Stack, browser: &Browser, provider: &str) -> reqwest::Response {
    let start = browser.get(&format!("/oauth/{provider}/login")).await;
    let callback = consent(stack, start).await;
    browser.get(&callback).await
}

async fn settings(browser: &Browser) -> String {
    let (status, page) = browser.page("/settings").await;
    assert_eq!(status, StatusCode::OK);
    page
}

fn username_on(settings: &str) -> String {
    let start = settings.find(r#"<strong id="username">"#).unwrap() + 22;
    settings[start..].split('<').next().unwrap().to_owned()
}

async fn run(stack: Stack, server: OAuthServer) {
    let suffix = natter_test_support::unique_suffix();
    let (_, home) = Browser::new(&stack.web_url).page("/").await;
    assert!(home.contains(r#"href="/oauth/test/login""#) && home.contains(r#"href="/oauth/corp/login""#));

    // The authorization request carries PKCE (S256), state, the client id and the callback.
    let probe = Browser::new(&stack.web_url).get("/oauth/test/login").await;
    let authorize = location(&probe);
    assert!(authorize.starts_with(&format!("{}/authorize?", server.url)), "{authorize}");
    assert_eq!(query_param(&authorize, "code_challenge_method"), "S256");
    assert_eq!(query_param(&authorize, "client_id"), "natter-test");
    assert!(query_param(&authorize, "state").len() >= 16);

    // First login creates the member; the next one finds it.
    server.sign_in_as(&format!("u-{suffix}"), &format!("Octo Cat {suffix}"));
    let first = Browser::new(&stack.web_url);
    let answer = log_in_with(&stack, &first, "test").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), "/rooms");
    let page = settings(&first).await;
    assert_eq!(username_on(&page), format!("OctoCat{suffix}"));
    assert!(page.contains("<li>test</li>"), "{page}");
    let again = Browser::new(&stack.web_url);
    assert_eq!(log_in_with(&stack, &again, "test").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        username_on(&settings(&again).await),
        format!("OctoCat{suffix}"),
        "same member, not a new one"
    );

    // A callback used twice: the state was used up.
    let replayer = Browser::new(&stack.web_url);
    let callback = consent(&stack, replayer.get("/oauth/test/login").await).await;
    assert_eq!(replayer.get(&callback).await.status(), StatusCode::SEE_OTHER);
    let (status, body) = replayer.page(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("expired or was not started here"), "{body}");

    // A replayed code with a fresh state: the provider refuses the exchange.
    let old_code = query_param(&callback, "code");
    let thief = Browser::new(&stack.web_url);
    let fresh_state = query_param(&location(&thief.get("/oauth/test/login").await), "state");
    let (status, body) =
        thief.page(&format!("/oauth/test/callback?code={old_code}&state={fresh_state}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("did not accept this login"), "{body}");

    // A forged state.
    let forger = Browser::new(&stack.web_url);
    let callback = consent(&stack, forger.get("/oauth/test/login").await).await;
    let forged = callback.replace(&format!("state={}", query_param(&callback, "state")), "state=forged");
    assert_eq!(forger.page(&forged).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(forger.get("/rooms").await.status(), StatusCode::SEE_OTHER, "not logged in");

    // The provider says no.
    server.fail_next("access_denied");
    let refused = Browser::new(&stack.web_url);
    let callback = consent(&stack, refused.get("/oauth/test/login").await).await;
    let (status, body) = refused.page(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("access_denied"), "{body}");

    // A password member links two providers; either logs in as that member.
    let dora_name = format!("dora_{suffix}");
    let dora = Browser::new(&stack.web_url);
    dora.sign_up(&dora_name, "correct horse battery").await;
    assert!(settings(&dora).await.contains(r#"action="/oauth/test/link""#));
    for (provider, subject) in [("test", format!("dora-{suffix}")), ("corp", format!("c-{suffix}"))] {
        server.sign_in_as(&subject, "dora-elsewhere");
        let start = dora.post_form(&format!("/oauth/{provider}/link"), &[]).await;
        let callback = consent(&stack, start).await;
        let linked = dora.get(&callback).await;
        assert_eq!(location(&linked), "/settings", "{provider}");
    }
    let page = settings(&dora).await;
    assert!(page.contains("<li>corp</li>") && page.contains("<li>test</li>"), "{page}");
    server.sign_in_as(&format!("c-{suffix}"), "dora-elsewhere");
    let via_corp = Browser::new(&stack.web_url);
    assert_eq!(log_in_with(&stack, &via_corp, "corp").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(username_on(&settings(&via_corp).await), dora_name, "two providers, one member");

    // Someone else's provider account cannot be linked; linking needs a login and the CSRF token.
    let erin = Browser::new(&stack.web_url);
    erin.sign_up(&format!("erin_{suffix}"), "correct horse battery").await;
    server.sign_in_as(&format!("u-{suffix}"), "whoever");
    let callback = consent(&stack, erin.post_form("/oauth/test/link", &[]).await).await;
    assert_eq!(erin.page(&callback).await.0, StatusCode::CONFLICT);
    assert_eq!(erin.post_form_raw("/oauth/test/link", &[]).await.status(), StatusCode::FORBIDDEN);
    let anonymous = Browser::new(&stack.web_url);
    assert_eq!(anonymous.post_form("/oauth/test/link", &[]).await.status(), StatusCode::SEE_OTHER);
}

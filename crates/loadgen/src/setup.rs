//! Preparing a run over web's HTTP APIs: accounts (signed up with the form when missing, logged into
//! with the REST API), the rooms (created by the first account, joined by the others) and one
//! message-host token per account.
//!
//! Sign-ups are rate-limited per client address (`NATTER_SIGNUP_MAX_PER_ADDRESS`, 20 an hour by
//! default), so few accounts are made and many connections share one member.

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde::Deserialize;
use serde_json::json;

/// HTTP requests in flight at once while preparing.
const CONCURRENCY: usize = 8;

/// A logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    /// Access token for `/api/v1`.
    access: String,
    /// Token for `GET /ws` on a message pod.
    pub ws_token: String,
}

/// Everything a run needs from web.
#[derive(Debug)]
pub struct Prepared {
    pub accounts: Vec<Account>,
    pub rooms: Vec<i64>,
}

/// What to prepare.
pub struct Plan<'a> {
    pub web_url: &'a str,
    pub prefix: &'a str,
    pub password: &'a str,
    pub accounts: usize,
    pub rooms: usize,
    /// Sign up before logging in (a fresh server); otherwise log in first and sign up on refusal, so
    /// that reruns against one web spend no sign-ups.
    pub sign_up_first: bool,
}

#[derive(Deserialize)]
struct TokenPair {
    access_token: String,
}

#[derive(Deserialize)]
struct WsToken {
    token: String,
}

#[derive(Deserialize)]
struct RoomView {
    id: i64,
}

/// What a run against the bare baseline uses: it has no accounts (any token is taken) and rooms are
/// just numbers.
pub fn bare(accounts: usize, rooms: usize) -> Prepared {
    let accounts = (0..accounts)
        .map(|k| Account {
            username: format!("bare-{k}"),
            access: String::new(),
            ws_token: "bare".to_owned(),
        })
        .collect();
    Prepared { accounts, rooms: (1..=rooms as i64).collect() }
}

/// Creates or logs into the accounts, creates the rooms and joins every account to every room.
pub async fn prepare(plan: &Plan<'_>) -> anyhow::Result<Prepared> {
    let http = reqwest::Client::builder().redirect(Policy::none()).build()?;
    let names: Vec<String> = (0..plan.accounts).map(|k| format!("{}-{k}", plan.prefix)).collect();
    let accounts: Vec<Account> = futures_util::stream::iter(names)
        .map(|username| account(&http, plan, username))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let owner = &accounts[0];
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let mut rooms = Vec::with_capacity(plan.rooms);
    for r in 0..plan.rooms {
        rooms.push(create_room(&http, plan.web_url, owner, &format!("lg-{stamp}-{r}")).await?);
    }
    let joins = accounts[1..].iter().flat_map(|a| rooms.iter().map(move |room| (a, *room)));
    futures_util::stream::iter(joins)
        .map(|(account, room)| join_room(&http, plan.web_url, account, room))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await?;
    Ok(Prepared { accounts, rooms })
}

/// One account, ready: logged in, with a message-host token.
async fn account(http: &reqwest::Client, plan: &Plan<'_>, username: String) -> anyhow::Result<Account> {
    let access = if plan.sign_up_first {
        sign_up(plan.web_url, &username, plan.password).await?;
        log_in(http, plan.web_url, &username, plan.password).await?.context("logging in after sign-up")?
    } else {
        match log_in(http, plan.web_url, &username, plan.password).await? {
            Some(access) => access,
            None => {
                sign_up(plan.web_url, &username, plan.password).await?;
                log_in(http, plan.web_url, &username, plan.password).await?.context("logging in")?
            }
        }
    };
    let response = http.get(format!("{}/api/v1/ws-token", plan.web_url)).bearer_auth(&access).send().await?;
    let ws_token = ok(response, "GET /api/v1/ws-token").await?.json::<WsToken>().await?.token;
    Ok(Account { username, access, ws_token })
}

/// `POST /api/v1/auth/login`: the access token, or `None` for wrong credentials.
async fn log_in(
    http: &reqwest::Client,
    web_url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<Option<String>> {
    let body = json!({ "username": username, "password": password });
    let response = http.post(format!("{web_url}/api/v1/auth/login")).json(&body).send().await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        return Ok(None);
    }
    Ok(Some(ok(response, "POST /api/v1/auth/login").await?.json::<TokenPair>().await?.access_token))
}

/// The sign-up form, the way a browser posts it: session cookie and CSRF token from `GET /`.
async fn sign_up(web_url: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let browser = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build()?;
    let page = ok(browser.get(format!("{web_url}/")).send().await?, "GET /").await?.text().await?;
    let marker = r#"name="csrf" value=""#;
    let start = page.find(marker).context("no CSRF token on the home page")? + marker.len();
    let csrf = page[start..].split('"').next().unwrap_or_default();
    let form = [("username", username), ("password", password), ("csrf", csrf)];
    let response = browser.post(format!("{web_url}/signup")).form(&form).send().await?;
    // Success redirects to the room list; a taken name or a refusal renders the form again.
    if response.status() != StatusCode::SEE_OTHER {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let why = text
            .split("class=\"error\"")
            .nth(1)
            .and_then(|s| s.split_once('>'))
            .and_then(|(_, s)| s.split('<').next())
            .unwrap_or("");
        bail!(
            "sign-up of {username} answered {status} {why} (sign-ups per address are limited by \
             NATTER_SIGNUP_MAX_PER_ADDRESS; reuse accounts with --account-prefix)"
        );
    }
    Ok(())
}

async fn create_room(
    http: &reqwest::Client,
    web_url: &str,
    owner: &Account,
    name: &str,
) -> anyhow::Result<i64> {
    let response = http
        .post(format!("{web_url}/api/v1/rooms"))
        .bearer_auth(&owner.access)
        .json(&json!({ "name": name }))
        .send()
        .await?;
    Ok(ok(response, "POST /api/v1/rooms").await?.json::<RoomView>().await?.id)
}

async fn join_room(
    http: &reqwest::Client,
    web_url: &str,
    account: &Account,
    room: i64,
) -> anyhow::Result<()> {
    let response =
        http.post(format!("{web_url}/api/v1/rooms/{room}/join")).bearer_auth(&account.access).send().await?;
    ok(response, &format!("POST /api/v1/rooms/{room}/join as {}", account.username)).await?;
    Ok(())
}

/// The response when it succeeded; otherwise an error naming the request, status and body.
async fn ok(response: reqwest::Response, what: &str) -> anyhow::Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    bail!("{what} answered {status}: {}", body.chars().take(300).collect::<String>())
}

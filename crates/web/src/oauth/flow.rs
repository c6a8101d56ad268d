//! The authorization-code flow with PKCE and state.
//!
//! `start` remembers the state, the PKCE verifier and the intent (log in, or link to the logged-in
//! member) in the session and sends the browser to the provider. `callback` takes them out again
//! (each state works once), checks the state in constant time, exchanges the code with the verifier,
//! reads the provider account from the user-info endpoint, and logs in, signs up or links.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use natter_db::identities;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::http_client;
use super::providers::OAuthProvider;
use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::page_format::see_other;
use crate::routes::pages::rooms::CsrfOnly;

const SESSION_PENDING: &str = "oauth_pending";
/// Stored as the password hash of members who signed up through a provider: matches no password.
const NO_PASSWORD: &str = "!oauth";
const USERNAME_ATTEMPTS: usize = 50;

#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    state: String,
    verifier: String,
    link: bool,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn bad_request(detail: impl Into<String>) -> PageError {
    PageError::Status(StatusCode::BAD_REQUEST, detail.into())
}

fn provider<'a>(state: &'a State, name: &str) -> Result<&'a OAuthProvider, PageError> {
    state.oauth.get(name).ok_or_else(|| PageError::not_found("No such login provider."))
}

fn client(state: &State, provider: &OAuthProvider) -> Result<Client, PageError> {
    let redirect = format!("{}/oauth/{}/callback", state.public_url, provider.name);
    Ok(BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.expose_secret().to_owned()))
        .set_auth_uri(AuthUrl::new(provider.auth_url.clone()).map_err(PageError::internal)?)
        .set_token_uri(TokenUrl::new(provider.token_url.clone()).map_err(PageError::internal)?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(PageError::internal)?))
}

fn start(state: &State, session: &Session, name: &str, link: bool) -> Result<HttpResponse, PageError> {
    let provider = provider(state, name)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client(state, provider)?
        .authorize_url(CsrfToken::new_random)
        .add_scopes(provider.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        provider: provider.name.clone(),
        state: csrf.secret().clone(),
        verifier: verifier.secret().clone(),
        link,
    };
    session.insert(SESSION_PENDING, pending).map_err(PageError::internal)?;
    Ok(see_other(url.as_str()))
}

/// `GET /oauth/{provider}/login`: log in (or sign up) with a provider account.
#[utoipa::path(get, path = "/oauth/{provider}/login", params(("provider" = String, Path, description = "a configured login provider")), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn oauth_login(
    state: web::Data<State>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    start(&state, &session, &path, false)
}

/// `POST /oauth/{provider}/link`: link a provider account to the logged-in member.
#[utoipa::path(post, path = "/oauth/{provider}/link", params(("provider" = String, Path, description = "a configured login provider")), request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn oauth_link(
    state: web::Data<State>,
    path: web::Path<String>,
    SignedIn { session, .. }: SignedIn,
    _: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    start(&state, &session, &path, true)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/{provider}/callback`: where the provider sends the browser back.
#[utoipa::path(get, path = "/oauth/{provider}/callback", params(("provider" = String, Path, description = "a configured login provider"), Callback), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn oauth_callback(
    state: web::Data<State>,
    request: actix_web::HttpRequest,
    path: web::Path<String>,
    query: web::Query<Callback>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let provider = provider(&state, &path)?;
    let pending: Option<Pending> = session.remove_as(SESSION_PENDING).and_then(Result::ok);
    let expired = || bad_request("This login has expired or was not started here. Start again.");
    let pending = pending.filter(|p| p.provider == provider.name).ok_or_else(expired)?;
    if let Some(error) = &query.error {
        return Err(bad_request(format!("{} did not grant access ({error}).", provider.name)));
    }
    let presented = query.state.as_deref().unwrap_or_default();
    if !constant_time_eq::constant_time_eq(presented.as_bytes(), pending.state.as_bytes()) {
        return Err(expired());
    }
    let code = query.code.clone().ok_or_else(|| bad_request("The provider sent no authorization code."))?;

    let http = http_client::client();
    let send = |request| http_client::send(&http, request);
    let token = client(&state, provider)?
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&send)
        .await
        .map_err(|e| {
            tracing::warn!(provider = %provider.name, error = %e, "code exchange refused");
            bad_request(format!("{} did not accept this login. Start again.", provider.name))
        })?;
    let account = provider_account(&http, provider, token.access_token().secret()).await?;

    if pending.link {
        let member_id = auth::session_member(&session).ok_or(PageError::LoginRequired)?;
        let linked =
            identities::link(&mut state.db.conn().await?, &provider.name, &account.subject, member_id).await;
        return match linked {
            Ok(()) => Ok(see_other("/settings")),
            Err(natter_db::DbError::Conflict) => Err(PageError::Status(
                StatusCode::CONFLICT,
                format!("That {} account is already linked to a member.", provider.name),
            )),
            Err(e) => Err(e.into()),
        };
    }
    // Bound first: `sign_up` takes a connection, so none may be held across it (a match would hold the
    // one of its scrutinee).
    let linked = identities::member_of(&mut state.db.conn().await?, &provider.name, &account.subject).await?;
    let member = match linked {
        Some(member) => member,
        None => sign_up(&state, provider, &account).await?,
    };
    tracing::info!(member.id = member.id, provider = %provider.name, "member logged in with a provider");
    auth::start_session(&session, member.id)?;
    crate::devices::record_login(&state, &session, member.id, &crate::devices::user_agent(&request)).await?;
    // A provider login is not remembered: clear a marker an earlier login may have left.
    let mut response = HttpResponse::SeeOther();
    response.insert_header(("Location", "/rooms"));
    crate::remember::set_marker(&mut response, &state, false);
    Ok(response.finish())
}

struct ProviderAccount {
    subject: String,
    username: String,
}

async fn provider_account(
    http: &reqwest::Client,
    provider: &OAuthProvider,
    access_token: &str,
) -> Result<ProviderAccount, PageError> {
    let failed = |e: &dyn std::fmt::Display| {
        tracing::warn!(provider = %provider.name, error = %e, "user info request failed");
        PageError::Status(
            StatusCode::BAD_GATEWAY,
            format!("{} did not say who you are. Try again.", provider.name),
        )
    };
    let info: serde_json::Value = http
        .get(&provider.userinfo_url)
        .bearer_auth(access_token)
        .header("accept", "application/json")
        .header("user-agent", "natter")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| failed(&e))?
        .json()
        .await
        .map_err(|e| failed(&e))?;
    let subject = match &info[&provider.subject_field] {
        serde_json::Value::String(s) if !s.is_empty() => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(failed(&format!("no {:?} in user info", provider.subject_field))),
    };
    let username = info[&provider.username_field].as_str().unwrap_or_default().to_owned();
    Ok(ProviderAccount { subject, username })
}

/// A username made from the provider's suggestion: allowed characters only, 3 to 32 long.
fn username_base(suggested: &str, provider: &str) -> String {
    let mut base: String = suggested
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(28)
        .collect();
    if base.len() < 3 {
        base = format!("{provider}-user");
    }
    base
}

/// Creates the member for a first provider login, finding a free username.
async fn sign_up(
    state: &State,
    provider: &OAuthProvider,
    account: &ProviderAccount,
) -> Result<natter_db::Member, PageError> {
    let base = username_base(&account.username, &provider.name);
    for attempt in 1..=USERNAME_ATTEMPTS {
        let username = if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") };
        let new =
            natter_db::NewMember { username: &username, display_name: &username, password_hash: NO_PASSWORD };
        let created =
            identities::create_member(&mut state.db.conn().await?, new, &provider.name, &account.subject)
                .await;
        match created {
            Ok(member) => return Ok(member),
            Err(natter_db::DbError::Conflict) => {
                // The same account may have signed up concurrently.
                if let Some(member) =
                    identities::member_of(&mut state.db.conn().await?, &provider.name, &account.subject)
                        .await?
                {
                    return Ok(member);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PageError::internal("no free username for a provider sign-up"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames_from_providers_are_valid() {
        assert_eq!(super::username_base("octo cat!", "github"), "octocat");
        assert_eq!(super::username_base("", "github"), "github-user");
        assert_eq!(super::username_base(&"x".repeat(50), "github").len(), 28);
    }
}

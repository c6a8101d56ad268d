//! A small OAuth2 authorization server for the tests, speaking the real protocol over HTTP:
//! `/authorize` consents at once for the current test user (or answers with a configured error),
//! `/token` checks client authentication, the redirect URI, the PKCE S256 verifier and that each code
//! is used once, and `/userinfo` answers for a bearer access token.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    user: (String, String),
    used: bool,
}

#[derive(Default)]
struct Server {
    clients: HashMap<String, String>,
    user: Option<(String, String)>,
    next_error: Option<String>,
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, (String, String)>,
}

#[derive(Clone)]
pub struct OAuthServer {
    pub url: String,
    state: Arc<Mutex<Server>>,
}

fn random() -> String {
    natter_test_support::unique_suffix() + &natter_test_support::unique_suffix()
}

impl OAuthServer {
    /// Starts the server with these `(client_id, client_secret)` pairs.
    pub fn start(clients: &[(&str, &str)]) -> OAuthServer {
        let state = Arc::new(Mutex::new(Server {
            clients: clients.iter().map(|(id, secret)| (id.to_string(), secret.to_string())).collect(),
            ..Server::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let data = web::Data::new(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        OAuthServer { url, state }
    }

    /// The provider account that consents next: `(subject, preferred username)`.
    pub fn sign_in_as(&self, subject: &str, username: &str) {
        self.state.lock().unwrap().user = Some((subject.to_owned(), username.to_owned()));
    }

    /// The next authorization answers with this error instead of a code.
    pub fn fail_next(&self, error: &str) {
        self.state.lock().unwrap().next_error = Some(error.to_owned());
    }

    /// Environment that configures web with this server as provider `name`.
    pub fn web_env(&self, name: &str, client_id: &str, secret: &str) -> Vec<(String, String)> {
        let var = |suffix: &str| format!("NATTER_OAUTH_{}_{suffix}", name.to_uppercase());
        vec![
            (var("CLIENT_ID"), client_id.to_owned()),
            (var("CLIENT_SECRET"), secret.to_owned()),
            (var("AUTH_URL"), format!("{}/authorize", self.url)),
            (var("TOKEN_URL"), format!("{}/token", self.url)),
            (var("USERINFO_URL"), format!("{}/userinfo", self.url)),
        ]
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(server: web::Data<Arc<Mutex<Server>>>, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let mut server = server.lock().unwrap();
    if query.response_type != "code" || query.code_challenge_method != "S256" {
        return HttpResponse::BadRequest().body("code flow with S256 PKCE only");
    }
    if !server.clients.contains_key(&query.client_id) {
        return HttpResponse::BadRequest().body("unknown client");
    }
    let state = url_encode(&query.state);
    let location = if let Some(error) = server.next_error.take() {
        format!("{}?error={error}&state={state}", query.redirect_uri)
    } else {
        let code = random();
        let user = server.user.clone().expect("sign_in_as before authorizing");
        server.grants.insert(
            code.clone(),
            Grant {
                client_id: query.client_id.clone(),
                redirect_uri: query.redirect_uri.clone(),
                challenge: query.code_challenge.clone(),
                user,
                used: false,
            },
        );
        format!("{}?code={code}&state={state}", query.redirect_uri)
    };
    HttpResponse::Found().insert_header(("Location", location)).finish()
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({ "error": error }))
}

async fn token(
    server: web::Data<Arc<Mutex<Server>>>,
    request: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let mut server = server.lock().unwrap();
    // Client authentication: HTTP Basic, as the oauth2 crate sends it.
    let client = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())));
    let Some((client_id, secret)) = client else { return oauth_error("invalid_client") };
    if server.clients.get(&client_id) != Some(&secret) {
        return oauth_error("invalid_client");
    }
    if form.grant_type != "authorization_code" {
        return oauth_error("unsupported_grant_type");
    }
    let Some(grant) = server.grants.get_mut(&form.code) else { return oauth_error("invalid_grant") };
    if grant.used || grant.client_id != client_id || grant.redirect_uri != form.redirect_uri {
        grant.used = true;
        return oauth_error("invalid_grant");
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes())) != grant.challenge {
        return oauth_error("invalid_grant");
    }
    grant.used = true;
    let user = grant.user.clone();
    let access_token = random();
    server.tokens.insert(access_token.clone(), user);
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": 3600,
    }))
}

async fn userinfo(server: web::Data<Arc<Mutex<Server>>>, request: HttpRequest) -> HttpResponse {
    let server = server.lock().unwrap();
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| server.tokens.get(t)) {
        Some((subject, username)) => {
            HttpResponse::Ok().json(serde_json::json!({ "sub": subject, "preferred_username": username }))
        }
        None => HttpResponse::Unauthorized().finish(),
    }
}

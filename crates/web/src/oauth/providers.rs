//! OAuth providers, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_OAUTH_PROVIDERS` | empty | comma-separated provider names, e.g. `github,keycloak` |
//! | `NATTER_OAUTH_<NAME>_CLIENT_ID` | — (required) | the client id registered at the provider |
//! | `NATTER_OAUTH_<NAME>_CLIENT_SECRET` | — (required) | its secret |
//! | `NATTER_OAUTH_<NAME>_AUTH_URL` | GitHub's for `github` | authorization endpoint |
//! | `NATTER_OAUTH_<NAME>_TOKEN_URL` | GitHub's for `github` | token endpoint |
//! | `NATTER_OAUTH_<NAME>_USERINFO_URL` | GitHub's for `github` | user info endpoint (JSON) |
//! | `NATTER_OAUTH_<NAME>_SCOPES` | `read:user` / `openid profile` | space-separated scopes |
//! | `NATTER_OAUTH_<NAME>_SUBJECT_FIELD` | `id` / `sub` | user info field that identifies the account |
//! | `NATTER_OAUTH_<NAME>_USERNAME_FIELD` | `login` / `preferred_username` | field suggesting a username |
//!
//! The callback URL to register at the provider is `<NATTER_WEB_PUBLIC_URL>/oauth/<name>/callback`.

use natter_runtime::env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct OAuthProvider {
    pub name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: Vec<String>,
    pub subject_field: String,
    pub username_field: String,
}

#[derive(Debug, Clone, Default)]
pub struct OAuthProviders(pub Vec<OAuthProvider>);

impl OAuthProviders {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let names = env.or("NATTER_OAUTH_PROVIDERS", "");
        let mut providers = Vec::new();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(EnvError::Invalid {
                    name: "NATTER_OAUTH_PROVIDERS".into(),
                    reason: format!("{name:?}: provider names use letters, digits and '-'"),
                });
            }
            let var =
                |suffix: &str| format!("NATTER_OAUTH_{}_{suffix}", name.to_uppercase().replace('-', "_"));
            let github = name == "github";
            let url = |suffix: &str, github_default: &str| -> Result<String, EnvError> {
                match env.optional(&var(suffix)) {
                    Some(url) => Ok(url),
                    None if github => Ok(github_default.to_owned()),
                    None => env.required(&var(suffix), "the provider's endpoint URL"),
                }
            };
            providers.push(OAuthProvider {
                name: name.to_owned(),
                client_id: env.required(&var("CLIENT_ID"), "the client id registered at the provider")?,
                client_secret: env
                    .secret(&var("CLIENT_SECRET"), "the client secret registered at the provider")?,
                auth_url: url("AUTH_URL", "https://github.com/login/oauth/authorize")?,
                token_url: url("TOKEN_URL", "https://github.com/login/oauth/access_token")?,
                userinfo_url: url("USERINFO_URL", "https://api.github.com/user")?,
                scopes: env
                    .or(&var("SCOPES"), if github { "read:user" } else { "openid profile" })
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                subject_field: env.or(&var("SUBJECT_FIELD"), if github { "id" } else { "sub" }),
                username_field: env
                    .or(&var("USERNAME_FIELD"), if github { "login" } else { "preferred_username" }),
            });
        }
        Ok(Self(providers))
    }

    pub fn get(&self, name: &str) -> Option<&OAuthProvider> {
        self.0.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|p| p.name.clone()).collect()
    }
}

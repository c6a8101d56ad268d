//! OAuth2 login (authorization code + PKCE + state) with GitHub or any provider configured by its
//! endpoints (generic OAuth2/OIDC: Google, Keycloak, ...). The first login with a provider account
//! creates a member; a logged-in member can link more providers from the settings page.

pub(crate) mod flow;
mod http_client;
pub mod providers;

pub(crate) use flow::{oauth_callback, oauth_link, oauth_login};
pub use providers::{OAuthProvider, OAuthProviders};

//! `natter-presence`: the presence service on Redis, configured from the environment.

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    natter_presence::serve_from_env(&natter_runtime::env::Env::from_process()).await
}

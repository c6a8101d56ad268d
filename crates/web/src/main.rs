//! `natter-web`: the web service on PostgreSQL and MongoDB, configured from the environment.

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    natter_web::serve_from_env(&natter_runtime::env::Env::from_process()).await
}

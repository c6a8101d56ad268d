//! `natter-web`: the web service on PostgreSQL and MongoDB, configured from the environment.
//! `natter-web migrate` applies the database migrations and exits.

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let env = natter_runtime::env::Env::from_process();
    match std::env::args().nth(1).as_deref() {
        None => natter_web::serve_from_env(&env).await,
        Some("migrate") => natter_web::migrate_from_env(&env).await,
        Some(other) => anyhow::bail!("unknown command {other:?}; run without arguments, or `migrate`"),
    }
}

//! `natter-message`: a message pod on Kafka and MongoDB, configured from the environment.

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    natter_message::serve_from_env(&natter_runtime::env::Env::from_process()).await
}

//! `natter`: run Natter.
//!
//! - `natter standalone`: every service in one process on embedded stores (SQLite, in-process bus,
//!   in-memory history and presence). No PostgreSQL, Kafka, Redis or MongoDB needed.
//! - `natter web|message|presence`: one service on the real stores, configured from the environment
//!   (the same as the `natter-web`, `natter-message` and `natter-presence` binaries).
//! - `natter migrate`: apply PostgreSQL migrations (`NATTER_DATABASE_URL`) and exit.
//! - `natter search-backfill`: index the messages already in history (`NATTER_DATABASE_URL`,
//!   `NATTER_MONGODB_URL`) for search and exit; safe while the services run.
//! - `natter openapi web|presence`: print a service's OpenAPI document, generated from its handlers
//!   (`scripts/openapi` writes them to `proto/`).
//! - `natter asyncapi --examples proto/examples`: print the AsyncAPI document of the WebSocket frames
//!   and bus topics, with the examples found there.

mod asyncapi;
mod standalone;

use clap::{Parser, Subcommand};
use natter_runtime::env::Env;

#[derive(Parser)]
#[command(name = "natter", version, about = "Natter chat backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run web, message and presence in one process on embedded stores.
    Standalone(standalone::Options),
    /// Run the web service (environment configuration; see README).
    Web,
    /// Run a message pod (environment configuration; see README).
    Message,
    /// Run the presence service (environment configuration; see README).
    Presence,
    /// Apply database migrations and exit.
    Migrate,
    /// Index the messages already stored in history for search, then exit.
    SearchBackfill,
    /// Print the AsyncAPI document of the WebSocket frames and bus topics (YAML) and exit.
    Asyncapi {
        /// Where the JSON examples are (`proto/examples`).
        #[arg(long)]
        examples: std::path::PathBuf,
    },
    /// Print a service's OpenAPI document (generated from the code) and exit.
    Openapi {
        #[arg(value_enum)]
        service: DocumentedService,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DocumentedService {
    Web,
    Presence,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env = Env::from_process();
    match cli.command {
        Command::Standalone(options) => standalone::run(options).await,
        Command::Web => natter_web::serve_from_env(&env).await,
        Command::Message => natter_message::serve_from_env(&env).await,
        Command::Presence => natter_presence::serve_from_env(&env).await,
        Command::Migrate => {
            let url = env.required("NATTER_DATABASE_URL", "e.g. postgres://natter@db/natter")?;
            let applied = natter_db::Db::migrate_postgres(&url).await?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Command::SearchBackfill => natter_web::search_backfill_from_env(&env).await,
        Command::Asyncapi { examples } => {
            print!("{}", asyncapi::document_yaml(&examples)?);
            Ok(())
        }
        Command::Openapi { service } => {
            let document = match service {
                DocumentedService::Web => natter_web::openapi_document(),
                DocumentedService::Presence => natter_presence::openapi_document(),
            };
            println!("{}", document.to_pretty_json()?);
            Ok(())
        }
    }
}

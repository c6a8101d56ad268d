//! `natter-loadgen`: opens N WebSocket connections across R rooms of a Natter message pod, publishes at
//! a given rate, and reports deliveries per second, publish-to-deliver latency, loss, duplicates,
//! order violations and the pod's resident memory per connection. See README.md, "Benchmarks".

mod args;
mod bitmap;
mod client;
mod clock;
mod connect;
mod limits;
mod monitor;
mod phase;
mod procfs;
mod report;
mod run;
mod setup;
mod source_ips;
mod standalone;
mod stats;
mod wire;

use anyhow::Context;
use clap::Parser;

use crate::args::Args;
use crate::connect::Target;
use crate::standalone::{Server, Standalone};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.validate()?;
    clock::now_ns();
    let wanted = args.connections as u64 * 2 + 1024; // ours, and a standalone child's
    let nofile = limits::raise_nofile(wanted).context("raising RLIMIT_NOFILE")?;
    if nofile < args.connections as u64 + 64 {
        eprintln!("warning: RLIMIT_NOFILE is {nofile}; {} connections will not all open", args.connections);
    }
    let _ = rustls::crypto::ring::default_provider().install_default();

    let server = match (args.standalone, args.bare) {
        (true, _) => Some(Server::Natter),
        (_, true) => Some(Server::Bare),
        _ => None,
    };
    let pod = match server {
        Some(server) => Some(
            Standalone::start(server, args.natter_bin.as_deref(), &args.pod_log, args.server_cpus.as_deref())
                .await?,
        ),
        None => None,
    };
    let outcome = measure(&args, pod.as_ref(), nofile).await;
    if let Some(pod) = pod {
        pod.stop().await;
    }
    println!("{}", outcome?);
    Ok(())
}

/// Prepares, runs and renders the report.
async fn measure(args: &Args, pod: Option<&Standalone>, nofile: u64) -> anyhow::Result<String> {
    let (web_url, message_url, pod_pid) = match pod {
        Some(pod) => (pod.web_url.clone(), pod.message_url.clone(), Some(pod.pid)),
        None => (
            args.web.clone().context("--web is required")?,
            args.message.clone().context("--message is required")?,
            args.pod_pid,
        ),
    };
    let web_url = web_url.trim_end_matches('/').to_owned();
    let target = Target::resolve(&message_url).await?;
    let plan = setup::Plan {
        web_url: &web_url,
        prefix: &args.account_prefix,
        password: &args.password,
        accounts: args.accounts,
        rooms: args.rooms,
        sign_up_first: pod.is_some(),
    };
    let prepared = if args.bare {
        setup::bare(args.accounts, args.rooms)
    } else {
        setup::prepare(&plan).await.context("preparing accounts and rooms")?
    };
    let findings = run::execute(args, &prepared, target, pod_pid).await;
    let context = report::Context { args, web_url: &web_url, message_url: &message_url, pod_pid, nofile };
    Ok(report::render(&context, &findings))
}

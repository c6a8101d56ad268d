//! End-to-end tests from the user's side: the walking skeleton's slice, through every service and
//! every real store (distributed: separate processes on PostgreSQL, Redis, a Kafka-protocol broker and
//! a MongoDB-protocol server, two message pods) and through standalone mode.

mod api;
mod app_shell;
mod bad_config;
mod bad_input;
mod browser;
mod calls;
mod calls_ice;
mod calls_page;
mod chat_client;
mod checker;
mod client;
mod client_library;
mod contract;
mod drain;
mod edits;
mod faults;
mod files;
mod friends;
mod friends_page;
mod idempotent_publish;
mod mentions;
mod metrics_scrape;
mod oauth;
mod oauth_server;
mod otlp_receiver;
mod overload;
mod presence_live;
mod presence_pushes;
mod publish_order;
mod push;
mod push_page;
mod push_service;
mod reactions;
mod reactions_page;
mod reports;
mod rest_auth;
mod resume;
mod rooms_live;
mod rooms_matrix;
mod search;
mod search_page;
mod sessions;
mod slice;
mod stack;
mod traces;
mod typing_and_limits;
mod web_auth;
mod whispers;
mod whispers_page;

use stack::Stack;

/// Each case runs on a distributed and on a standalone stack; `case with settings` gives the message
/// pods (and the standalone process) the settings `settings()` returns on top of the defaults.
macro_rules! on_both_stacks {
    ($($case:ident $(with $settings:path)?),*) => {
        mod distributed {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { crate::$case::run(stack!(distributed $($settings)?)).await })*
        }
        mod standalone {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { crate::$case::run(stack!(standalone $($settings)?)).await })*
        }
    };
}

/// The stack of one case of [`on_both_stacks`].
macro_rules! stack {
    (distributed) => {
        crate::Stack::distributed().await
    };
    (distributed $settings:path) => {
        crate::Stack::distributed_with_message_env(Vec::new(), $settings()).await
    };
    (standalone) => {
        crate::Stack::standalone().await
    };
    (standalone $settings:path) => {
        crate::Stack::standalone_with($settings()).await
    };
}

on_both_stacks!(slice, bad_input, web_auth, browser, app_shell, client_library, sessions, rest_auth, rooms_matrix, rooms_live,
    presence_pushes,
    resume with crate::stack::unlimited_publishing,
    idempotent_publish with crate::stack::unlimited_publishing,
    publish_order with crate::stack::unlimited_publishing,
    edits with crate::stack::unlimited_publishing,
    chat_client with crate::stack::unlimited_publishing,
    checker with crate::stack::unlimited_publishing,
    typing_and_limits with crate::typing_and_limits::settings);

/// Files need web settings (a small upload limit), so they have their own pair of cases.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_files() {
    files::run(Stack::distributed_with_envs(files::settings(), Vec::new(), Vec::new()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_files() {
    files::run(Stack::standalone_with(files::settings()).await).await;
}

/// Messages are found by their words, by members only; edits, deletions and kicks follow.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_search() {
    search::run(Stack::standalone().await).await;
}

/// The same through the broker: the indexer is a shared consumer group of the web pods.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_search() {
    search::run(Stack::distributed().await).await;
}

/// ICE servers for calls: STUN as configured, TURN with expiring per-member credentials.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_calls_ice() {
    calls_ice::run(Stack::standalone_with(calls_ice::settings()).await).await;
}

/// Calls over the protocol on one process: state, signals, refusals, kicks and closed connections.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_calls() {
    calls::run(Stack::standalone_with(calls::settings()).await).await;
}

/// Calls across two message pods, and a killed pod's participant leaving within the lease.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_calls() {
    calls::run(Stack::distributed_with_envs(Vec::new(), Vec::new(), calls::settings()).await).await;
}

/// A call in the chat client: two Chromium instances with fake media, on different message pods.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_calls_page() {
    calls_page::run(Stack::distributed_with_envs(Vec::new(), Vec::new(), calls::settings()).await).await;
}

/// The call bar in the chat client on the standalone stack.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_calls_page() {
    calls_page::run(Stack::standalone().await).await;
}

/// Whispers on one process.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_whispers() {
    whispers::run(Stack::standalone().await).await;
}

/// Whispers across two message pods: privacy on every read path.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_whispers() {
    whispers::run(Stack::distributed().await).await;
}

/// Whispers in the chat client (Chromium, three people).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_whispers_page() {
    whispers_page::run(Stack::standalone().await).await;
}

/// Friends on one process.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_friends() {
    friends::run(Stack::standalone().await).await;
}

/// Friends across two web pods' stores and two message pods (the live notice).
#[tokio::test(flavor = "multi_thread")]
async fn distributed_friends() {
    friends::run(Stack::distributed().await).await;
}

/// The friends page in Chromium (two people).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_friends_page() {
    friends_page::run(Stack::standalone().await).await;
}

/// Reports of messages and whispers, seen by moderators only.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_reports() {
    reports::run(Stack::standalone().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn distributed_reports() {
    reports::run(Stack::distributed().await).await;
}

/// Web Push to members who are away, through a push service of our own (VAPID, RFC 8291).
#[tokio::test(flavor = "multi_thread")]
async fn distributed_push() {
    push::run(Stack::distributed_with(push::settings()).await).await;
}

/// The service worker shows a pushed notification (Chromium, DevTools standing in for the push service).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_push_page() {
    push_page::run(Stack::standalone().await).await;
}

/// Mentions found by the server, on two pods: members only, @room rules, unread mention counts.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_mentions() {
    mentions::run(Stack::distributed_with(mentions::crowd()).await).await;
}

/// Mentions on the standalone stack.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_mentions() {
    mentions::run(Stack::standalone_with(mentions::crowd()).await).await;
}

/// Reactions on two pods: counts, convergence, history, who may react, limits.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_reactions() {
    reactions::run(Stack::distributed().await).await;
}

/// Reactions on the standalone stack (the in-memory history and bus).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_reactions() {
    reactions::run(Stack::standalone().await).await;
}

/// Reactions in the chat client (Chromium, two people).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_reactions_page() {
    reactions_page::run(Stack::standalone().await).await;
}

/// The search box and results page in Chromium (the API is checked on both stacks above).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_search_page() {
    search_page::run(Stack::standalone().await).await;
}

/// History stored before search existed is found after `natter search-backfill`, which an operator
/// runs beside the live services (twice: the second run adds nothing).
#[tokio::test(flavor = "multi_thread")]
async fn distributed_search_backfill() {
    search::backfill(Stack::distributed().await).await;
}

/// A burst beyond every queue of a room: prompt readers skip ahead, a stalled one is cut off.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_overload() {
    overload::run(Stack::standalone_with(overload::settings()).await).await;
}

/// SIGTERM stops one pod of the two.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_drain() {
    drain::run_distributed().await;
}

/// SIGTERM on web and presence: in-flight requests finish.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_web_and_presence_drain() {
    drain::run_web_and_presence().await;
}

/// Each process has its own metrics.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_metrics() {
    metrics_scrape::run_distributed().await;
}

/// Pods are killed and Redis restarted: only the distributed stack has them.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_presence() {
    presence_live::run_distributed().await;
}

/// Traces span processes, so only the distributed stack shows them.
#[tokio::test(flavor = "multi_thread")]
async fn distributed_traces() {
    traces::run_distributed().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn distributed_oauth() {
    oauth::run_distributed().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_oauth() {
    oauth::run_standalone().await;
}

/// The committed OpenAPI documents are the ones the code generates (no stack needed).
#[test]
fn openapi_documents_are_generated() {
    contract::committed_documents_are_generated();
    contract::http_examples_fit_their_schemas();
}

/// The committed AsyncAPI document is the generated one, and the examples fit its schemas.
#[test]
fn asyncapi_document_is_generated() {
    contract::committed_asyncapi_is_generated_and_examples_fit();
}

/// The served document, fuzzed with schemathesis (bounded by `NATTER_FUZZ_SECONDS`, default 60).
#[tokio::test(flavor = "multi_thread")]
async fn standalone_contract_fuzzed() {
    contract::run(Stack::standalone().await).await;
}

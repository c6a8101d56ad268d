//! End-to-end tests from the user's side: the walking skeleton's slice, through every service and
//! every real store (distributed: separate processes on PostgreSQL, Redis, a Kafka-protocol broker and
//! a MongoDB-protocol server, two message pods) and through standalone mode.

mod api;
mod bad_input;
mod browser;
mod client;
mod oauth;
mod oauth_server;
mod rest_auth;
mod rooms_live;
mod rooms_matrix;
mod sessions;
mod slice;
mod stack;
mod web_auth;

use stack::Stack;

macro_rules! on_both_stacks {
    ($($case:ident),*) => {
        mod distributed {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { crate::$case::run(crate::Stack::distributed().await).await })*
        }
        mod standalone {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { crate::$case::run(crate::Stack::standalone().await).await })*
        }
    };
}

on_both_stacks!(slice, bad_input, web_auth, browser, sessions, rest_auth, rooms_matrix, rooms_live);

#[tokio::test(flavor = "multi_thread")]
async fn distributed_oauth() {
    oauth::run_distributed().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_oauth() {
    oauth::run_standalone().await;
}

//! The AsyncAPI 3.0 document of Natter's asynchronous contract: the WebSocket frames between clients
//! and message pods, and the payload of every bus topic. Payload schemas come from the `natter-proto`
//! types (the same utoipa schemas as the OpenAPI document), and each message carries the examples in
//! `proto/examples`, so a test can check every example against its schema. `scripts/openapi` writes it
//! to `proto/asyncapi.yaml`; a test keeps the committed file equal to the generated one.

mod yaml;

use std::path::Path;

use natter_proto::events::{
    CallEvent, FileEvent, MembershipChanged, MessageChanged, MessagePosted, PresenceEvent, StoredMessage,
    TypingChanged, WhisperPosted,
};
use natter_proto::frames::{ClientFrame, ServerFrame};
use natter_proto::topics::Topic;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// The wire types whose schemas the document carries (and everything they refer to).
#[derive(OpenApi)]
#[openapi(components(schemas(
    ClientFrame,
    ServerFrame,
    MessagePosted,
    StoredMessage,
    MembershipChanged,
    TypingChanged,
    MessageChanged,
    PresenceEvent,
    FileEvent,
    CallEvent,
    WhisperPosted
)))]
struct WireTypes;

/// One kind of message: its name, payload schema, and the example files (under `proto/examples`)
/// that show it.
struct Kind {
    name: &'static str,
    schema: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "clientFrame",
        schema: "ClientFrame",
        summary: "A request from a client (one JSON text message).",
        examples: &["client"],
    },
    Kind {
        name: "serverFrame",
        schema: "ServerFrame",
        summary: "An answer or an event from a message pod.",
        examples: &["server"],
    },
    Kind {
        name: "messagePosted",
        schema: "MessagePosted",
        summary: "A chat message as published, before it has a position.",
        examples: &["events/message_posted"],
    },
    Kind {
        name: "storedMessage",
        schema: "StoredMessage",
        summary: "A message with its position, in its room's order.",
        examples: &[],
    },
    Kind {
        name: "membershipChanged",
        schema: "MembershipChanged",
        summary: "Someone joined, left, was removed, or the room changed.",
        examples: &["events/membership_changed"],
    },
    Kind {
        name: "typingChanged",
        schema: "TypingChanged",
        summary: "Someone started or stopped typing.",
        examples: &["events/typing_changed"],
    },
    Kind {
        name: "messageChanged",
        schema: "MessageChanged",
        summary: "A stored message was edited, deleted or reacted to (and the reaction counted).",
        examples: &[
            "events/message_edited",
            "events/message_deleted",
            "events/message_reacted",
            "events/reaction_counted",
        ],
    },
    Kind {
        name: "presenceEvent",
        schema: "PresenceEvent",
        summary: "A member's presence or read position changed.",
        examples: &["events/presence_"],
    },
    Kind {
        name: "fileEvent",
        schema: "FileEvent",
        summary: "A file was uploaded or removed.",
        examples: &["events/file_"],
    },
    Kind {
        name: "callEvent",
        schema: "CallEvent",
        summary: "Who is in a room's call, or signalling between two of its participants.",
        examples: &["events/call_"],
    },
    Kind {
        name: "whisperPosted",
        schema: "WhisperPosted",
        summary: "A whisper: for its sender and recipient only.",
        examples: &["events/whisper_posted"],
    },
];

/// The topics, each with the message kind it carries and how it is keyed.
fn topic_kind(topic: Topic) -> (&'static str, &'static str) {
    match topic {
        Topic::CommunityMessages | Topic::DirectMessages => ("messagePosted", "room id"),
        Topic::Sequenced => ("storedMessage", "room id"),
        Topic::Membership => ("membershipChanged", "room id"),
        Topic::Typing => ("typingChanged", "room id"),
        Topic::Edits => ("messageChanged", "room id"),
        Topic::Presence => ("presenceEvent", "`member:<id>` for presence, room id for read positions"),
        Topic::Files => ("fileEvent", "room id"),
        Topic::Whispers => ("whisperPosted", "room id"),
        Topic::Calls => ("callEvent", "room id for call states, `signal:<from>><to>` for signals"),
    }
}

/// The examples of a kind: every `*.json` under `proto/examples/<dir>` whose path starts with the
/// given prefix (`client` takes the whole directory, `events/file_` the file events).
fn examples(root: &Path, prefix: &str) -> std::io::Result<Vec<Value>> {
    let (dir, start) = prefix.split_once('/').unwrap_or((prefix, ""));
    let mut files: Vec<_> = std::fs::read_dir(root.join(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(start)))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let payload: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
            let name = format!("{dir}/{}", path.file_name().unwrap_or_default().to_string_lossy());
            Ok(json!({ "name": name, "payload": payload }))
        })
        .collect()
}

/// The document, with the examples found under `examples_root` (`proto/examples`).
pub fn document(examples_root: &Path) -> std::io::Result<Value> {
    let mut messages = Map::new();
    for kind in KINDS {
        let mut found = Vec::new();
        for prefix in kind.examples {
            found.extend(examples(examples_root, prefix)?);
        }
        let mut message = json!({
            "name": kind.name,
            "summary": kind.summary,
            "contentType": "application/json",
            "payload": { "$ref": format!("#/components/schemas/{}", kind.schema) },
        });
        if !found.is_empty() {
            message["examples"] = Value::Array(found);
        }
        messages.insert(kind.name.to_owned(), message);
    }
    let message_ref = |name: &str| json!({ "$ref": format!("#/components/messages/{name}") });

    let mut channels = Map::new();
    let mut operations = Map::new();
    channels.insert(
        "websocket".to_owned(),
        json!({
            "address": "/ws",
            "title": "A client's WebSocket on a message pod",
            "description": "Subprotocols `natter.v1` and `natter.token.<jwt>` (a token from web's /ws-token or \
                /api/v1/ws-token). Frames, error codes, close codes and ordering: proto/README.md.",
            "servers": [{ "$ref": "#/servers/message" }],
            "messages": {
                "clientFrame": message_ref("clientFrame"),
                "serverFrame": message_ref("serverFrame"),
            },
        }),
    );
    operations.insert(
        "receiveClientFrame".to_owned(),
        json!({
            "action": "receive",
            "summary": "A message pod receives requests from its clients.",
            "channel": { "$ref": "#/channels/websocket" },
            "messages": [{ "$ref": "#/channels/websocket/messages/clientFrame" }],
        }),
    );
    operations.insert(
        "sendServerFrame".to_owned(),
        json!({
            "action": "send",
            "summary": "A message pod answers requests and pushes room events.",
            "channel": { "$ref": "#/channels/websocket" },
            "messages": [{ "$ref": "#/channels/websocket/messages/serverFrame" }],
        }),
    );
    for topic in Topic::ALL {
        let (kind, key) = topic_kind(topic);
        let id = topic.base_name().replace('.', "_");
        channels.insert(
            id.clone(),
            json!({
                "address": format!("{{prefix}}{}", topic.base_name()),
                "description": format!("Kafka topic, keyed by {key} (one key keeps one order)."),
                "servers": [{ "$ref": "#/servers/kafka" }],
                "parameters": { "prefix": { "description": "NATTER_KAFKA_TOPIC_PREFIX (empty by default)" } },
                "messages": { kind: message_ref(kind) },
            }),
        );
        operations.insert(
            format!("publish_{id}"),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{id}") },
                "messages": [{ "$ref": format!("#/channels/{id}/messages/{kind}") }],
            }),
        );
    }
    let schemas = serde_json::to_value(WireTypes::openapi().components.map(|c| c.schemas))
        .map_err(std::io::Error::other)?;
    Ok(json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Natter WebSocket frames and bus events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Generated from the natter-proto types by `natter asyncapi` (scripts/openapi); \
                do not edit by hand. Examples come from proto/examples.",
        },
        "servers": {
            "message": { "host": "127.0.0.1:8081", "protocol": "ws", "description": "a message pod" },
            "kafka": { "host": "127.0.0.1:9092", "protocol": "kafka", "description": "the bus" },
        },
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages, "schemas": schemas },
    }))
}

/// The document as YAML.
pub fn document_yaml(examples_root: &Path) -> std::io::Result<String> {
    Ok(yaml::to_yaml(&document(examples_root)?))
}

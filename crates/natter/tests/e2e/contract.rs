//! The HTTP contract as a client depends on it: the committed OpenAPI documents are the ones the code
//! generates, web serves that same document, both are valid OpenAPI 3.1, and a fuzzer that follows the
//! document against a running stack finds no server error, no undocumented status and no body that
//! breaks its schema.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use natter_proto::http::TokenPair;
use serde_json::json;

use crate::client::Browser;
use crate::stack::Stack;

fn proto_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto")
}

fn pretty(document: &utoipa::openapi::OpenApi) -> String {
    format!("{}\n", document.to_pretty_json().unwrap())
}

/// Where `scripts/services start` installed schemathesis and openapi-spec-validator.
fn api_tool(name: &str) -> PathBuf {
    let tools = std::env::var_os("NATTER_TOOLS_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/natter-tools")
    });
    let mut venvs: Vec<PathBuf> = std::fs::read_dir(&tools)
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    venvs.retain(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("schemathesis-")));
    venvs.sort();
    let tool = venvs.last().map(|venv| venv.join("bin").join(name));
    tool.filter(|t| t.exists()).unwrap_or_else(|| {
        panic!("{name} is not installed under {}; run scripts/services start", tools.display())
    })
}

/// The committed documents are the generated ones (`scripts/openapi` rewrites them), and valid.
pub fn committed_documents_are_generated() {
    for (file, document) in [
        ("openapi.json", natter_web::openapi_document()),
        ("presence.openapi.json", natter_presence::openapi_document()),
    ] {
        let path = proto_dir().join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == pretty(&document),
            "proto/{file} differs from the document the code generates; run scripts/openapi and commit it"
        );
        let validated = Command::new(api_tool("openapi-spec-validator")).arg(&path).output().unwrap();
        assert!(
            validated.status.success(),
            "proto/{file} is not a valid OpenAPI document:\n{}{}",
            String::from_utf8_lossy(&validated.stdout),
            String::from_utf8_lossy(&validated.stderr)
        );
        // Every operation declares the path parameters its path names (a hand-written document once
        // missed 25 of them).
        let value: serde_json::Value = serde_json::from_str(&committed).unwrap();
        for (path, item) in value["paths"].as_object().unwrap() {
            let named: Vec<&str> = path.split('{').skip(1).filter_map(|p| p.split('}').next()).collect();
            for (method, operation) in item.as_object().unwrap() {
                let declared: Vec<&str> = operation["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect()
                    })
                    .unwrap_or_default();
                assert_eq!(declared, named, "{method} {path} declares its path parameters");
            }
        }
    }
}

/// Checks the HTTP examples of `proto/examples/{http,rooms}` against the schemas of the OpenAPI
/// documents named as arguments (a file's stem names its schema); prints how many.
const CHECK_HTTP_EXAMPLES: &str = r##"
import sys, json, pathlib, jsonschema
examples, documents = pathlib.Path(sys.argv[1]), sys.argv[2:]
schemas = {}
for document in documents:
    schemas.update(json.load(open(document))["components"]["schemas"])
named = {"error": "ErrorBody", "room_member": "RoomMemberView", "room_access_muted": "RoomAccess",
         "room_access_none": "RoomAccess"}
lists = {"member_presence"}  # an answer that is a list of the type
checked = 0
for path in sorted(list(examples.glob("http/*.json")) + list(examples.glob("rooms/*.json"))):
    name = named.get(path.stem) or "".join(part.title() for part in path.stem.split("_"))
    assert name in schemas, f"{path}: no schema {name} in the OpenAPI documents"
    schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
    if path.stem in lists:
        schema = {"type": "array", "items": schema, "components": {"schemas": schemas}}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(path))))
    if error is not None:
        sys.exit(f"{path} does not fit {name}: {error.message} at {list(error.absolute_path)}")
    checked += 1
print(checked)
"##;

/// Every HTTP example in `proto/examples` fits the schema of the type it shows.
pub fn http_examples_fit_their_schemas() {
    let checked = Command::new(api_tool("python"))
        .arg("-c")
        .arg(CHECK_HTTP_EXAMPLES)
        .arg(proto_dir().join("examples"))
        .arg(proto_dir().join("openapi.json"))
        .arg(proto_dir().join("presence.openapi.json"))
        .output()
        .unwrap();
    let report =
        format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "{report}");
    let files: usize = ["http", "rooms"]
        .iter()
        .map(|dir| std::fs::read_dir(proto_dir().join("examples").join(dir)).unwrap().count())
        .sum();
    assert_eq!(report.trim().parse::<usize>().unwrap(), files, "every HTTP example is checked");
}

/// Web serves the committed document, and schemathesis, following it with a member's access token,
/// finds nothing to report in a bounded run.
pub async fn run(stack: Stack) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let served = http.get(format!("{}/api/v1/openapi.json", stack.web_url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "application/json");
    let served: serde_json::Value = served.json().await.unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&pretty(&natter_web::openapi_document())).unwrap();
    assert_eq!(served, generated, "web serves the generated document");

    let name = format!("fuzz_{}", natter_test_support::unique_suffix());
    Browser::new(&stack.web_url).sign_up(&name, "correct horse battery").await;
    let login = http
        .post(format!("{}/api/v1/auth/login", stack.web_url))
        .json(&json!({ "username": name, "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    let tokens: TokenPair = login.json().await.unwrap();
    // One room of the member's own, so that some generated ids name a room that exists.
    let room = http
        .post(format!("{}/api/v1/rooms", stack.web_url))
        .bearer_auth(&tokens.access_token)
        .json(&json!({ "name": format!("fuzz {name}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(room.status(), 201);

    let seconds = std::env::var("NATTER_FUZZ_SECONDS").unwrap_or_else(|_| "60".to_owned());
    let output = tokio::task::spawn_blocking({
        let web_url = stack.web_url.clone();
        let token = tokens.access_token.clone();
        move || {
            Command::new(api_tool("schemathesis"))
                .args(["run", &format!("{web_url}/api/v1/openapi.json"), "--url", &web_url])
                .args(["--include-path-regex", "^/api/v1/"])
                .args(["--exclude-path", "/api/v1/auth/logout"])
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
                .args(["--max-time", &seconds, "--workers", "2", "--max-redirects", "0"])
                .args(["--request-timeout", "20", "--no-color"])
                .env("SCHEMATHESIS_TELEMETRY", "false")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let report =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "schemathesis found problems:\n{report}");
    let tail: String =
        report.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    eprintln!("schemathesis:\n{tail}");
}

/// Checks every example a message of the AsyncAPI document carries against the message's payload
/// schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1 and of utoipa's schemas); prints how many.
const CHECK_ASYNCAPI_EXAMPLES: &str = r#"
import sys, yaml, jsonschema
doc = yaml.safe_load(open(sys.argv[1]))
assert doc["asyncapi"].startswith("3."), "an AsyncAPI 3 document"
checked = 0
for name, message in doc["components"]["messages"].items():
    schema = {"$ref": message["payload"]["$ref"], "components": doc["components"]}
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for example in message.get("examples", []):
        error = jsonschema.exceptions.best_match(validator.iter_errors(example["payload"]))
        if error is not None:
            sys.exit(f"{example['name']} does not fit {name}: {error.message} at {list(error.absolute_path)}")
        checked += 1
for channel in doc["channels"].values():
    for message in channel["messages"].values():
        ref = message["$ref"].split("/")[-1]
        assert ref in doc["components"]["messages"], f"channel message {ref} exists"
print(checked)
"#;

/// `proto/asyncapi.yaml` is the document `natter asyncapi` generates, and every example of a frame or
/// event in `proto/examples` fits its schema.
pub fn committed_asyncapi_is_generated_and_examples_fit() {
    let generated = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["asyncapi", "--examples"])
        .arg(proto_dir().join("examples"))
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let path = proto_dir().join("asyncapi.yaml");
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated.stdout,
        "proto/asyncapi.yaml differs from the document the code generates; run scripts/openapi and commit it"
    );
    let checked =
        Command::new(api_tool("python")).arg("-c").arg(CHECK_ASYNCAPI_EXAMPLES).arg(&path).output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let count: usize = String::from_utf8_lossy(&checked.stdout).trim().parse().unwrap();
    let files: usize = ["client", "server", "events"]
        .iter()
        .map(|dir| std::fs::read_dir(proto_dir().join("examples").join(dir)).unwrap().count())
        .sum();
    assert_eq!(count, files, "every frame and event example is checked against its schema");
}

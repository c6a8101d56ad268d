//! An OTLP/HTTP trace receiver (JSON encoding) run inside the test: the services export their spans
//! to it as they would to a collector, and the test reads what arrived.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::Value;

/// One received span, with the service (and instance) that exported it.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    pub service: String,
    pub instance: String,
}

#[derive(Clone)]
pub struct OtlpReceiver {
    pub url: String,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let data = web::Data::new(Arc::clone(&spans));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(16 * 1024 * 1024))
                .route("/v1/traces", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        OtlpReceiver { url, spans }
    }

    /// The environment that makes a service export its spans here, quickly.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().clone()
    }
}

async fn receive(spans: web::Data<Arc<Mutex<Vec<ReceivedSpan>>>>, body: web::Json<Value>) -> HttpResponse {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut received = Vec::new();
    for resource_spans in body["resourceSpans"].as_array().into_iter().flatten() {
        let attribute = |name: &str| {
            resource_spans["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == name)
                .map(|a| text(&a["value"]["stringValue"]))
                .unwrap_or_default()
        };
        let (service, instance) = (attribute("service.name"), attribute("service.instance.id"));
        for scope in resource_spans["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                received.push(ReceivedSpan {
                    trace_id: text(&span["traceId"]),
                    span_id: text(&span["spanId"]),
                    parent_span_id: text(&span["parentSpanId"]),
                    name: text(&span["name"]),
                    service: service.clone(),
                    instance: instance.clone(),
                });
            }
        }
    }
    spans.lock().unwrap().extend(received);
    HttpResponse::Ok().content_type("application/json").body("{}")
}

//! Carrying a trace across processes: the current span's context as W3C `traceparent`/`tracestate`
//! headers (on Kafka records and internal HTTP calls), and a span made the child of such headers.
//! Without trace export configured there is no context: nothing is written, nothing is followed.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's trace context as headers (empty when no trace is recorded).
pub fn current_headers() -> Vec<(String, String)> {
    let context = tracing::Span::current().context();
    let mut headers = HeaderList(Vec::new());
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut headers);
    });
    headers.0
}

/// Makes `span` a child of the trace named in `headers`, if any.
pub fn follow<'a>(span: &tracing::Span, headers: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let headers: HashMap<String, &str> =
        headers.into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    if !headers.contains_key("traceparent") {
        return;
    }
    let context =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&HeaderMap(&headers)));
    let _ = span.set_parent(context);
}

struct HeaderList(Vec<(String, String)>);

impl Injector for HeaderList {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

struct HeaderMap<'a>(&'a HashMap<String, &'a str>);

impl Extractor for HeaderMap<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).copied()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

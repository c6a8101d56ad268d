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

/// Records the trace id of `span` in its `trace_id` field (declared `trace_id = Empty`), so that every
/// log line inside it names the trace (text logs show span fields, JSON logs list the spans). Call it
/// on root spans (a request, a publish frame, a consumed record) after [`follow`]. Nothing is recorded
/// without trace export, as there is no trace then.
pub fn record_trace_id(span: &tracing::Span) {
    use opentelemetry::trace::TraceContextExt;
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", span_context.trace_id().to_string());
    }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider;
    use tracing::field::Empty;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_inside_a_traced_request_name_its_trace() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(move || writer.clone()),
            );
        let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", trace_id = Empty);
            follow(&request, [("traceparent", caller)]);
            record_trace_id(&request);
            let _request = request.enter();
            let inner = tracing::info_span!("publish");
            let _inner = inner.enter();
            tracing::info!("deep inside");
        });
        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line = logged.lines().find(|l| l.contains("deep inside")).expect("the event is logged");
        assert!(line.contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), "{line}");

        // Untraced: no trace id is made up.
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer().json().with_span_list(true).with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", trace_id = Empty);
            record_trace_id(&request);
            let _request = request.enter();
            tracing::info!("plain");
        });
        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("plain") && !logged.contains("trace_id"), "{logged}");
    }
}

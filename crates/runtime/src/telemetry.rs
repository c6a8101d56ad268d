//! Logging and tracing set-up.
//!
//! Logs: `RUST_LOG` filters (default `info`); `NATTER_LOG_FORMAT=json` switches to one JSON object
//! per line for log shippers. With tracing on, each log line inside a span carries the trace id.
//!
//! Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, spans
//! are exported over OTLP/HTTP, protobuf unless `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`; the exporter
//! reads the other standard `OTEL_EXPORTER_OTLP_*` variables itself. `OTEL_SERVICE_NAME` overrides
//! the service name. Context crosses processes as a W3C `traceparent` (see [`crate::trace_context`]).

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the trace exporter; dropping it (or [`Telemetry::shutdown`]) exports the spans still
/// buffered and stops the exporter.
#[must_use = "keep it until the service stops, or buffered spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {}
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
        }
    }
}

/// Whether the environment asks for trace export.
fn export_configured() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// Installs the global subscriber (logs, and spans to OTLP when configured) for `service` (and its
/// `instance`, such as a message pod's id); later calls (tests starting several services in one
/// process) only return a handle that does nothing.
pub fn init(service: &str, instance: Option<&str>, json: bool) -> Telemetry {
    // The exporter's HTTP client needs it.
    crate::install_tls_provider();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = if export_configured() { build_provider(service, instance) } else { None };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer("natter")).with_tracked_inactivity(false)
    });
    let fmt = tracing_subscriber::fmt::layer().with_target(true);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = if json {
        registry.with(fmt.json().with_current_span(true).with_span_list(true)).try_init()
    } else {
        registry.with(fmt).try_init()
    };
    match (installed, provider) {
        (Ok(()), Some(provider)) => {
            opentelemetry::global::set_tracer_provider(provider.clone());
            tracing::info!(service, "exporting traces over OTLP");
            Telemetry { provider: Some(provider) }
        }
        (_, provider) => {
            if let Some(provider) = provider {
                let _ = provider.shutdown();
            }
            Telemetry { provider: None }
        }
    }
}

fn build_provider(service: &str, instance: Option<&str>) -> Option<SdkTracerProvider> {
    let json = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .is_ok_and(|protocol| protocol.trim() == "http/json");
    let protocol = if json { Protocol::HttpJson } else { Protocol::HttpBinary };
    let exporter =
        match opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(protocol).build() {
            Ok(exporter) => exporter,
            Err(e) => {
                // Tracing is an aid, not a dependency: run without it rather than refuse to start.
                eprintln!("natter: OTLP trace exporter not started: {e}");
                return None;
            }
        };
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    let mut resource = Resource::builder().with_service_name(name);
    if let Some(instance) = instance {
        resource = resource.with_attribute(KeyValue::new("service.instance.id", instance.to_owned()));
    }
    let resource = resource.build();
    Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

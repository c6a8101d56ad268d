//! A span per HTTP request, continuing the caller's trace when the request carries a `traceparent`
//! (internal calls between services do, see [`crate::InternalClient`]). Named after the matched
//! route, never the raw path (ids in paths would make every request a name of its own). Counts
//! requests by route, method and status and records their latency (Prometheus metrics), with the
//! same route names.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing::field::Empty;

/// Middleware: `App::new().wrap(actix_web::middleware::from_fn(natter_http::trace_requests))`.
pub async fn trace_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Routing happens after middleware, so the pattern is looked up here (the span's name must be
    // known when it starts).
    let route = request.request().resource_map().match_pattern(request.path());
    let route = route.as_deref().unwrap_or("unmatched");
    let span = tracing::info_span!(
        "request",
        otel.name = format!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = route,
        http.response.status_code = Empty,
        trace_id = Empty,
    );
    let headers = request.headers();
    let context = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| Some((name, headers.get(name)?.to_str().ok()?)));
    natter_runtime::trace_context::follow(&span, context);
    natter_runtime::trace_context::record_trace_id(&span);
    let method = request.method().to_string();
    let route = route.to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    metrics::counter!(
        "http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    Ok(response)
}

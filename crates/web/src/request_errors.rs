//! One shape for every refused request, including those no handler sees: unparsable path
//! parameters, queries and forms, and addresses no route serves. Under `/api` and `/internal` the
//! answer is the API's JSON error body (`{"errors":[{"detail"}]}`, `natter_http::ApiError`);
//! elsewhere it is the styled error page (`PageError`).

use std::sync::LazyLock;

use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use natter_http::ApiError;

use crate::error::PageError;

fn is_api(request: &HttpRequest) -> bool {
    let path = request.path();
    path.starts_with("/api/") || path.starts_with("/internal/")
}

fn refuse(request: &HttpRequest, status: StatusCode, detail: String) -> actix_web::Error {
    if is_api(request) {
        ApiError::new(status, detail).into()
    } else {
        PageError::Status(status, detail).into()
    }
}

/// A path parameter that does not parse (`/rooms/abc`): 400 for the API, "no such page" for pages.
pub(crate) fn path_error(error: PathError, request: &HttpRequest) -> actix_web::Error {
    if is_api(request) {
        refuse(request, StatusCode::BAD_REQUEST, format!("invalid path parameter: {error}"))
    } else {
        refuse(request, StatusCode::NOT_FOUND, "There is no page at this address.".to_owned())
    }
}

/// A query string that does not parse.
pub(crate) fn query_error(error: QueryPayloadError, request: &HttpRequest) -> actix_web::Error {
    refuse(request, StatusCode::BAD_REQUEST, format!("invalid query: {error}"))
}

/// A form body that does not parse: 415 for another content type, 413 beyond the limit, else 400.
pub(crate) fn form_error(error: UrlencodedError, request: &HttpRequest) -> actix_web::Error {
    let status = match error {
        UrlencodedError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    refuse(request, status, format!("invalid form: {error}"))
}

/// The methods the routes of a path template serve, from the OpenAPI document (which is generated
/// from the same handlers the app routes to, and checked against the routes by the contract tests).
struct RouteTemplate {
    segments: Vec<String>,
    methods: Vec<&'static str>,
}

static ROUTES: LazyLock<Vec<RouteTemplate>> = LazyLock::new(|| {
    let document = crate::routes::openapi::document();
    document
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let operations = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            RouteTemplate {
                segments: path.split('/').map(str::to_owned).collect(),
                methods: operations.into_iter().filter(|(_, served)| *served).map(|(m, _)| m).collect(),
            }
        })
        .collect()
});

/// The methods served at `path`, if a route matches it with another method.
fn allowed_methods(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let matches = |template: &RouteTemplate| {
        template.segments.len() == segments.len()
            && template
                .segments
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty()))
    };
    let mut methods: Vec<&str> =
        ROUTES.iter().filter(|t| matches(t)).flat_map(|t| t.methods.clone()).collect();
    methods.sort_unstable();
    methods.dedup();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// An address no route serves with this method: 405 with `Allow` when the path is served with
/// other methods, else 404.
pub(crate) async fn not_found(request: HttpRequest) -> HttpResponse {
    if let Some(allow) = allowed_methods(request.path()) {
        let detail = format!("{} is not served at {}; use {allow}", request.method(), request.path());
        let mut response = refuse(&request, StatusCode::METHOD_NOT_ALLOWED, detail).error_response();
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
            response.headers_mut().insert(actix_web::http::header::ALLOW, value);
        }
        return response;
    }
    if is_api(&request) {
        return ApiError::not_found(format!("no endpoint {} {}", request.method(), request.path()))
            .error_response();
    }
    PageError::not_found("There is no page at this address.").error_response()
}

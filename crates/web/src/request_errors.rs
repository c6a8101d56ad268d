//! One shape for every refused request, including those no handler sees: unparsable path
//! parameters, queries and forms, and addresses no route serves. Under `/api` and `/internal` the
//! answer is the API's JSON error body (`{"errors":[{"detail"}]}`, `natter_http::ApiError`);
//! elsewhere it is the styled error page (`PageError`).

use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use natter_http::ApiError;

use crate::pages::PageError;

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

/// An address no route serves.
pub(crate) async fn not_found(request: HttpRequest) -> HttpResponse {
    if is_api(&request) {
        return ApiError::not_found(format!("no endpoint {} {}", request.method(), request.path()))
            .error_response();
    }
    PageError::not_found("There is no page at this address.").error_response()
}

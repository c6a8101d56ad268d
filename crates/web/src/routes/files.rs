//! File endpoints: upload (API and room page), download and thumbnail (session or access token), and
//! the internal attachment call of message pods. The rules live in `crate::files`.

use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use natter_db::Attached;
use natter_http::ApiError;
use natter_proto::http::AttachFile;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::bearer_member;
use crate::files::serve::{self, DownloadError, Part};
use crate::files::{file_ref, upload};

/// Header carrying the session's CSRF token on script-made posts of the room page.
const CSRF_HEADER: &str = "X-CSRF-Token";

/// The multipart body of an upload (described for the OpenAPI document; the handler streams it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct FileUpload {
    /// The file's bytes, with its file name (the part `file`).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /api/v1/rooms/{room}/files` (multipart, field `file`): 201 with the file's `FileRef`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/files", params(("room" = i64, Path, description = "the room id")), request_body(content = FileUpload, content_type = "multipart/form-data"), responses((status = 201, description = "created", body = natter_proto::events::FileRef), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 413, description = "the body is too large (Error)", body = natter_proto::http::ErrorBody), (status = 415, description = "the body has an unsupported type (Error)", body = natter_proto::http::ErrorBody), (status = 422, description = "the content is not acceptable (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "files")]
pub(crate) async fn api_upload(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let member = bearer_member(&state, &request).await?;
    let file = upload::receive(&state, member.id, path.into_inner(), multipart).await?;
    Ok(HttpResponse::Created().json(file))
}

/// `POST /rooms/{room}/files`: the room page's upload, with the session and its CSRF token in
/// `X-CSRF-Token`; answers like the API.
#[utoipa::path(post, path = "/rooms/{room}/files", params(("room" = i64, Path, description = "the room id")), request_body(content = FileUpload, content_type = "multipart/form-data"), responses((status = 201, description = "created", body = natter_proto::events::FileRef), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 413, description = "the body is too large (Error)", body = natter_proto::http::ErrorBody), (status = 415, description = "the body has an unsupported type (Error)", body = natter_proto::http::ErrorBody), (status = 422, description = "the content is not acceptable (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("session" = [])), tag = "files")]
pub(crate) async fn page_upload(
    state: web::Data<State>,
    session: Session,
    request: HttpRequest,
    path: web::Path<i64>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let member = auth::session_member(&session).ok_or_else(|| {
        PageError::Status(actix_web::http::StatusCode::UNAUTHORIZED, "Log in to share files.".to_owned())
    })?;
    let presented = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth::check_csrf(&session, presented)?;
    let file = upload::receive(&state, member, path.into_inner(), multipart).await?;
    Ok(HttpResponse::Created().json(file))
}

/// The member asking: the access token's when the request has one, else the session's.
async fn caller(state: &State, session: &Session, request: &HttpRequest) -> Result<i64, ApiError> {
    if request.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
        return Ok(bearer_member(state, request).await?.id);
    }
    auth::session_member(session).ok_or_else(|| ApiError::unauthorized("log in, or send an access token"))
}

async fn download(
    state: &State,
    session: &Session,
    request: &HttpRequest,
    id: &str,
    part: Part,
) -> Result<HttpResponse, ApiError> {
    let member = caller(state, session, request).await?;
    serve::download(state, id, member, part)
        .await
        .map_err(|e: DownloadError| ApiError::new(e.status(), e.to_string()))
}

/// `GET /files/{file}`.
#[utoipa::path(get, path = "/files/{file}", params(("file" = String, Path, description = "the file id (UUID)")), responses((status = 200, description = "OK", content_type = "application/octet-stream"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = []), ("session" = [])), tag = "files")]
pub(crate) async fn file_content(
    state: web::Data<State>,
    session: Session,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    download(&state, &session, &request, &path, Part::Content).await
}

/// `GET /files/{file}/thumbnail`.
#[utoipa::path(get, path = "/files/{file}/thumbnail", params(("file" = String, Path, description = "the file id (UUID)")), responses((status = 200, description = "OK", content_type = "image/png"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = []), ("session" = [])), tag = "files")]
pub(crate) async fn file_thumbnail(
    state: web::Data<State>,
    session: Session,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    download(&state, &session, &request, &path, Part::Thumbnail).await
}

/// `PUT /internal/files/{file}/attachment` (message pods): see [`AttachFile`].
#[utoipa::path(put, path = "/internal/files/{file}/attachment", params(("file" = String, Path, description = "the file id (UUID)")), request_body = natter_proto::http::AttachFile, responses((status = 200, description = "OK", body = natter_proto::events::FileRef), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn attach(
    state: web::Data<State>,
    path: web::Path<String>,
    body: web::Json<AttachFile>,
) -> Result<HttpResponse, ApiError> {
    let AttachFile { room_id, member_id, message_id } = body.into_inner();
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    let attached = natter_db::files::attach(&mut conn, &path, room_id, member_id, &message_id.to_string())
        .await
        .map_err(ApiError::unavailable)?;
    match attached {
        Attached::Done(file) => {
            let file = file_ref(&file).ok_or_else(|| ApiError::internal("a stored file does not convert"))?;
            Ok(HttpResponse::Ok().json(file))
        }
        Attached::NotFound => Err(ApiError::not_found("no such file uploaded by that member to that room")),
        Attached::Taken => Err(ApiError::conflict("another message shares that file")),
    }
}

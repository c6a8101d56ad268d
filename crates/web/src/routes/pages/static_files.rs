//! The browser client's files, compiled into the binary (`crates/web/client` builds the scripts).

use actix_web::{HttpResponse, web};

/// Name, content type and content of every static file.
const FILES: &[(&str, &str, &str)] = &[
    ("room.js", "application/javascript; charset=utf-8", include_str!("../../../static/room.js")),
    ("history.js", "application/javascript; charset=utf-8", include_str!("../../../static/history.js")),
    ("app.js", "application/javascript; charset=utf-8", include_str!("../../../static/app.js")),
    ("theme.js", "application/javascript; charset=utf-8", include_str!("../../../static/theme.js")),
    ("natter.css", "text/css; charset=utf-8", include_str!("../../../static/natter.css")),
    ("favicon.svg", "image/svg+xml", include_str!("../../../static/favicon.svg")),
];

/// `GET /static/{file}`.
#[utoipa::path(get, path = "/static/{file}", params(("file" = String, Path, description = "a bundled file: room.js, app.js, history.js, theme.js, natter.css, favicon.svg")), responses((status = 200, description = "OK", content_type = "text/javascript"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn static_file(name: web::Path<String>) -> HttpResponse {
    match FILES.iter().find(|(file, _, _)| *file == name.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "public, max-age=300"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(*body),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `GET /sw.js`: the service worker, from the root so that it may show notifications for every page
/// (a worker's scope is its own directory and below). Revalidated on every load, as browsers do for
/// workers, so a new release reaches them.
#[utoipa::path(get, path = "/sw.js", responses((status = 200, description = "OK", content_type = "text/javascript")), tag = "pages")]
pub(crate) async fn service_worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(include_str!("../../../static/sw.js"))
}

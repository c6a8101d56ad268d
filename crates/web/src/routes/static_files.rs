use actix_web::HttpResponse;

const ROOM_JS: &str = include_str!("../../static/room.js");

/// `GET /static/room.js`: the room page's script.
pub(crate) async fn room_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(ROOM_JS)
}

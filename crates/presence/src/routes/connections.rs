use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::calls::{CallSeat, MAX_SESSION_LEN, valid_session};
use natter_proto::http::{HeartbeatAnswer, PodHeartbeat};

use crate::app::{State, now_ms};

const MAX_ID_LEN: usize = 128;
/// Connections one heartbeat may report (a full one lists every connection of the pod).
const MAX_CONNECTIONS_PER_BEAT: usize = 100_000;
/// Longest lease a pod may ask for.
const MAX_LEASE_MS: u64 = 10 * 60 * 1000;
/// Longest participant name kept in a call seat.
const MAX_NAME_LEN: usize = 256;

fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.contains(['/', '|']) {
        return Err(ApiError::bad_request(format!(
            "{what} must be 1..={MAX_ID_LEN} bytes without '/' or '|'"
        )));
    }
    Ok(())
}

fn check_seat(seat: &CallSeat) -> Result<(), ApiError> {
    if !valid_session(&seat.participant.session) {
        return Err(ApiError::bad_request(format!(
            "a call session must be 1..={MAX_SESSION_LEN} letters, digits, '-' or '_'"
        )));
    }
    if seat.participant.name.len() > MAX_NAME_LEN {
        return Err(ApiError::bad_request(format!("a participant's name is at most {MAX_NAME_LEN} bytes")));
    }
    Ok(())
}

/// `PUT /internal/pods/{pod}/heartbeat`: a message pod renews its lease and reports its connection
/// changes; the answer asks for a full heartbeat when presence lost track of the pod.
#[utoipa::path(put, path = "/internal/pods/{pod}/heartbeat", params(("pod" = String, Path, description = "the message pod id")), request_body = natter_proto::http::PodHeartbeat, responses((status = 200, description = "OK", body = natter_proto::http::HeartbeatAnswer), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "presence")]
pub(crate) async fn heartbeat(
    state: web::Data<State>,
    pod: web::Path<String>,
    beat: web::Json<PodHeartbeat>,
) -> Result<HttpResponse, ApiError> {
    check_id("pod id", &pod)?;
    if beat.lease_ms == 0 || beat.lease_ms > MAX_LEASE_MS {
        return Err(ApiError::bad_request(format!("lease_ms must be 1..={MAX_LEASE_MS}")));
    }
    if beat.upserts.len() + beat.closed.len() > MAX_CONNECTIONS_PER_BEAT {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_CONNECTIONS_PER_BEAT} connections per heartbeat"
        )));
    }
    for connection in beat.upserts.iter().map(|c| &c.connection).chain(&beat.closed) {
        check_id("connection id", connection)?;
    }
    for seat in beat.upserts.iter().filter_map(|c| c.call.as_ref()) {
        check_seat(seat)?;
    }
    let applied = state.store.heartbeat(&pod, &beat, now_ms()).await.map_err(ApiError::unavailable)?;
    state.pushes.record(&applied.changes);
    state.calls.announce(&applied.calls).await;
    metrics::counter!("natter_presence_heartbeats_total", "full" => beat.full.to_string()).increment(1);
    metrics::counter!("natter_presence_connection_changes_total")
        .increment((beat.upserts.len() + beat.closed.len()) as u64);
    if applied.resync {
        tracing::info!(pod.id = %pod, "unknown pod lease; asking for a full heartbeat");
    }
    Ok(HttpResponse::Ok().json(HeartbeatAnswer { resync: applied.resync }))
}

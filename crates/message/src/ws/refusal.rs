//! The one shape of a refused WebSocket request: an error code and a detail for the client, not yet
//! tied to a request id. Handlers return it; the connection answers it as an `error` frame naming
//! the request (or naming none, when the frame was too broken to carry an id).

use std::time::Duration;

use natter_proto::frames::{ErrorCode, FrameError, ServerFrame};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) code: ErrorCode,
    pub(super) detail: String,
    /// When a rate-limited client may try again.
    pub(super) retry_after: Option<Duration>,
}

impl Refusal {
    pub(super) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), retry_after: None }
    }

    /// `invalid_request`: the request cannot be served as it is.
    pub(super) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, detail)
    }

    /// `forbidden`: the member may not do this.
    pub(super) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    /// `unavailable`: something the pod needs did not answer; the client should retry.
    pub(super) fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, detail)
    }

    /// `unavailable` with the wait before a retry may succeed (the pod is overloaded).
    pub(super) fn overloaded(detail: impl Into<String>, retry_after: Duration) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(ErrorCode::Unavailable, detail) }
    }

    /// `rate_limited`, with the wait before a retry can succeed.
    pub(super) fn rate_limited(detail: impl Into<String>, retry_after: Duration) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(ErrorCode::RateLimited, detail) }
    }

    /// The `error` frame answering request `id`. `retry_after_ms` is rounded up to whole
    /// milliseconds, so a client that waits exactly that long is not refused again for want of a
    /// fraction.
    pub(super) fn answering(self, id: Option<String>) -> ServerFrame {
        let retry_after_ms = self
            .retry_after
            .map(|wait| u64::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX).max(1));
        ServerFrame::Error { id, code: self.code, detail: self.detail, retry_after_ms }
    }
}

/// A frame that could not be read as a request, and the id it carried if any.
pub(super) struct Unreadable {
    pub(super) id: Option<String>,
    pub(super) refusal: Refusal,
}

impl From<FrameError> for Unreadable {
    fn from(error: FrameError) -> Self {
        Self { id: error.id, refusal: Refusal::new(error.code, error.detail) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_rounded_up_to_a_whole_millisecond() {
        let frame =
            Refusal::rate_limited("slow down", Duration::from_micros(2_100)).answering(Some("7".into()));
        let ServerFrame::Error { id, code, retry_after_ms, .. } = frame else { panic!("{frame:?}") };
        assert_eq!((id.as_deref(), code, retry_after_ms), (Some("7"), ErrorCode::RateLimited, Some(3)));
        let tiny = Refusal::rate_limited("slow down", Duration::ZERO).answering(None);
        assert!(matches!(tiny, ServerFrame::Error { retry_after_ms: Some(1), .. }));
        let plain = Refusal::invalid("no").answering(None);
        assert!(matches!(plain, ServerFrame::Error { retry_after_ms: None, .. }));
    }
}

//! After logging in, a person lands on the page they were going to (`/?next=`).
//!
//! A page that needs a login answers 303 to `/` with the [`MARKER`] header; this middleware adds the
//! address that was asked for (a `GET` of a page, `Accept: text/html`: a form post cannot be
//! replayed, and a script's fetch is no page) as `?next=`, and drops the marker. The login and sign-up forms carry `next` back, and [`safe_next`] keeps only a path on
//! this site, so the parameter cannot send anyone to another origin.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderValue, LOCATION};
use actix_web::middleware::Next;

use crate::page_format::query_value;

pub(crate) const MARKER: &str = "x-natter-login-required";

/// Where to go after logging in: `next` when it is a path on this site, else the room list.
pub(crate) fn safe_next(next: &str) -> &str {
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if same_site { next } else { "/rooms" }
}

pub(crate) async fn come_back_after_login(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Only pages a person navigated to: a script's fetch (a token, say) is no place to come back to.
    let navigation = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let wanted = (request.method() == Method::GET && navigation).then(|| {
        let uri = request.uri();
        uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
    });
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    if headers.remove(MARKER).next().is_none() {
        return Ok(response);
    }
    if let Some(wanted) = wanted.filter(|w| w != "/" && safe_next(w) == w.as_str())
        && let Ok(location) = HeaderValue::from_str(&format!("/?next={}", query_value(&wanted)))
    {
        headers.insert(LOCATION, location);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(safe_next("/rooms/5#m3"), "/rooms/5#m3");
        assert_eq!(safe_next("/settings?x=1"), "/settings?x=1");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "rooms",
            "/a\nb",
        ] {
            assert_eq!(safe_next(elsewhere), "/rooms", "{elsewhere:?}");
        }
    }
}

//! The HTTP client the oauth2 crate calls for the token exchange: reqwest 0.13 (the crate's own
//! adapter targets an older reqwest), following no redirects.

use std::time::Duration;

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("valid HTTP client configuration")
}

/// Sends an oauth2-crate request with `http` and returns its response.
pub(crate) async fn send(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response =
        http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a response rebuilt from a valid response"))
}

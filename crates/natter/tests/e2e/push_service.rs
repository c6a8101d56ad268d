//! A push service of our own for the tests (no public one is reachable here), speaking the real
//! protocol: it takes `POST /push/{id}` as a browser's push service would, checks the VAPID
//! `Authorization` (an ES256 JWT signed by the key the server publishes, for this origin, not
//! expired, with a contact), decrypts the `aes128gcm` body with the subscription's private key and
//! auth secret (RFC 8291), and keeps what it received. A subscription can be made to answer 410.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::{Auth, decrypt};

/// A browser's side of one subscription: its keys.
pub struct Subscriber {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

#[derive(Default)]
struct Service {
    /// The VAPID public key the server publishes (base64url).
    vapid_key: String,
    subscribers: HashMap<String, Subscriber>,
    gone: HashSet<String>,
    /// What each subscription received (decrypted JSON), and requests answered 410.
    received: HashMap<String, Vec<(std::time::Instant, Value)>>,
    refused: HashMap<String, usize>,
    /// Requests that failed a check, with the reason.
    rejected: Vec<String>,
}

#[derive(Clone)]
pub struct PushService {
    pub url: String,
    state: Arc<Mutex<Service>>,
}

impl PushService {
    pub fn start(vapid_key: &str) -> PushService {
        let state = Arc::new(Mutex::new(Service { vapid_key: vapid_key.to_owned(), ..Service::default() }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let data = web::Data::new(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).route("/push/{id}", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        PushService { url, state }
    }

    /// A new subscription `id`: the JSON a browser's `PushSubscription.toJSON()` gives.
    pub fn subscribe(&self, id: &str) -> Value {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let mut auth = [0u8; 16];
        getrandom_fill(&mut auth);
        let body = json!({
            "endpoint": format!("{}/push/{id}", self.url),
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(auth),
            },
        });
        self.state.lock().unwrap().subscribers.insert(id.to_owned(), Subscriber { secret, auth });
        body
    }

    /// From now on, pushes to `id` are answered 410 Gone.
    pub fn forget(&self, id: &str) {
        self.state.lock().unwrap().gone.insert(id.to_owned());
    }

    /// The notifications `id` received so far.
    pub fn received(&self, id: &str) -> Vec<Value> {
        self.received_at(id).into_iter().map(|(_, notification)| notification).collect()
    }

    /// The notifications `id` received so far, with when.
    pub fn received_at(&self, id: &str) -> Vec<(std::time::Instant, Value)> {
        self.state.lock().unwrap().received.get(id).cloned().unwrap_or_default()
    }

    /// How many pushes to `id` were answered 410.
    pub fn refused(&self, id: &str) -> usize {
        self.state.lock().unwrap().refused.get(id).copied().unwrap_or(0)
    }

    /// Requests that failed a check (none, when the server speaks the protocol).
    pub fn rejected(&self) -> Vec<String> {
        self.state.lock().unwrap().rejected.clone()
    }
}

fn getrandom_fill(bytes: &mut [u8]) {
    use p256::elliptic_curve::rand_core::RngCore;
    p256::elliptic_curve::rand_core::OsRng.fill_bytes(bytes);
}

async fn receive(
    state: web::Data<Arc<Mutex<Service>>>,
    path: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let id = path.into_inner();
    let mut service = state.lock().unwrap();
    if service.gone.contains(&id) {
        *service.refused.entry(id).or_default() += 1;
        return HttpResponse::Gone().finish();
    }
    match check(&service, &id, &request, &body) {
        Ok(notification) => {
            service.received.entry(id).or_default().push((std::time::Instant::now(), notification));
            HttpResponse::Created().finish()
        }
        Err(reason) => {
            service.rejected.push(format!("{id}: {reason}"));
            HttpResponse::BadRequest().body(reason)
        }
    }
}

/// The decrypted notification, once every check passes.
fn check(service: &Service, id: &str, request: &HttpRequest, body: &[u8]) -> Result<Value, String> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    if header("content-encoding") != "aes128gcm" {
        return Err(format!("content-encoding {:?}", header("content-encoding")));
    }
    if header("ttl").parse::<u64>().is_err() {
        return Err("no TTL".to_owned());
    }
    // Authorization: vapid t=<jwt>, k=<public key>
    let vapid = header("authorization").strip_prefix("vapid ").ok_or("not VAPID")?;
    let mut token = None;
    let mut key = None;
    for part in vapid.split(',').map(str::trim) {
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    if key != service.vapid_key {
        return Err("k= is not the server's published key".to_owned());
    }
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(key).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let host = request.connection_info().host().split(':').next().unwrap_or_default().to_owned();
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from([format!("http://{host}")])),
        ..VerificationOptions::default()
    };
    let claims =
        public.verify_token::<NoCustomClaims>(token, Some(options)).map_err(|e| format!("JWT: {e}"))?;
    if claims.subject.as_deref().is_none_or(str::is_empty) || claims.expires_at.is_none() {
        return Err("JWT without sub or exp".to_owned());
    }
    let subscriber = service.subscribers.get(id).ok_or("unknown subscription")?;
    let plain = decrypt(body.to_vec(), &subscriber.secret, &Auth::from(subscriber.auth))
        .map_err(|e| format!("decrypting: {e:?}"))?;
    serde_json::from_slice(&plain).map_err(|e| format!("payload: {e}"))
}

//! The authorization matrix of the room API: every room endpoint, called by an owner, an admin, a
//! member, an observer, a banned member, a non-member and an anonymous client, each on a fresh room,
//! must answer exactly the status in the table. Plus the visibility rules of private and invite-only
//! rooms.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::stack::Stack;

/// The callers, in the order of the expected-status columns.
const CALLERS: [&str; 7] = ["owner", "admin", "member", "observer", "banned", "outsider", "anonymous"];

/// The people around one fresh public room: the callers plus `target`, a plain member that
/// targeted actions (role, kick, mute, ban, transfer) aim at.
struct Cast {
    owner: Member,
    admin: Member,
    member: Member,
    observer: Member,
    banned: Member,
    outsider: Member,
    target: Member,
}

impl Cast {
    async fn new(api: &Api) -> Self {
        let names = ["owner", "admin", "member", "observer", "banned", "outsider", "target"];
        let mut people: Vec<Member> = join_all(names.iter().map(|n| api.member(n))).await;
        let target = people.pop().unwrap();
        let [owner, admin, member, observer, banned, outsider] =
            <[Member; 6]>::try_from(people).ok().unwrap();
        Cast { owner, admin, member, observer, banned, outsider, target }
    }

    fn caller(&self, index: usize) -> Option<&Member> {
        [&self.owner, &self.admin, &self.member, &self.observer, &self.banned, &self.outsider]
            .get(index)
            .copied()
    }

    /// A fresh public room with every role in place.
    async fn room(&self, api: &Api) -> i64 {
        let room = api.create_room(&self.owner, "matrix", "public", None).await;
        for who in [&self.admin, &self.member, &self.observer, &self.banned, &self.target] {
            api.join(room, who).await;
        }
        api.set_role(room, &self.owner, &self.admin, "admin").await;
        api.set_role(room, &self.owner, &self.observer, "observer").await;
        let ban = format!("/api/v1/rooms/{room}/bans/{}", self.banned.id);
        api.expect(StatusCode::NO_CONTENT, Method::PUT, &ban, &self.owner, Some(json!({}))).await;
        room
    }
}

struct Row {
    method: Method,
    /// `{r}` is the room, `{t}` the target member, `{b}` the banned member.
    path: &'static str,
    body: Option<Value>,
    expected: [u16; 7],
}

fn row(method: Method, path: &'static str, body: Option<Value>, expected: [u16; 7]) -> Row {
    Row { method, path, body, expected }
}

fn rows(cast: &Cast) -> Vec<Row> {
    let later = chrono_like_now_ms() + 600_000;
    let (get, post, put, patch, delete) =
        (Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE);
    let moderators = [204, 204, 403, 403, 403, 403, 401];
    let owner_only = [204, 403, 403, 403, 403, 403, 401];
    vec![
        row(get.clone(), "/api/v1/rooms/{r}", None, [200, 200, 200, 200, 200, 200, 401]),
        row(patch, "/api/v1/rooms/{r}", Some(json!({"topic": "new"})), [200, 200, 403, 403, 403, 403, 401]),
        row(delete.clone(), "/api/v1/rooms/{r}", None, owner_only),
        row(post.clone(), "/api/v1/rooms/{r}/archive", None, owner_only),
        row(delete.clone(), "/api/v1/rooms/{r}/archive", None, owner_only),
        row(
            post.clone(),
            "/api/v1/rooms/{r}/transfer",
            Some(json!({"member_id": cast.target.id})),
            owner_only,
        ),
        row(post.clone(), "/api/v1/rooms/{r}/join", None, [200, 200, 200, 200, 403, 200, 401]),
        row(post.clone(), "/api/v1/rooms/{r}/leave", None, [409, 204, 204, 204, 404, 404, 401]),
        row(get.clone(), "/api/v1/rooms/{r}/members", None, [200, 200, 200, 200, 403, 403, 401]),
        row(put.clone(), "/api/v1/rooms/{r}/members/{t}/role", Some(json!({"role": "observer"})), moderators),
        row(put.clone(), "/api/v1/rooms/{r}/members/{t}/role", Some(json!({"role": "admin"})), owner_only),
        row(post.clone(), "/api/v1/rooms/{r}/members/{t}/kick", None, moderators),
        row(put.clone(), "/api/v1/rooms/{r}/members/{t}/mute", Some(json!({"until_ms": later})), moderators),
        row(delete.clone(), "/api/v1/rooms/{r}/members/{t}/mute", None, moderators),
        row(put.clone(), "/api/v1/rooms/{r}/bans/{t}", Some(json!({})), moderators),
        row(delete.clone(), "/api/v1/rooms/{r}/bans/{b}", None, moderators),
        row(
            post.clone(),
            "/api/v1/rooms/{r}/invitations",
            Some(json!({"username": cast.outsider.username})),
            moderators,
        ),
        row(
            post.clone(),
            "/api/v1/rooms/{r}/invite-links",
            Some(json!({})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        row(get.clone(), "/api/v1/rooms/{r}/invite-links", None, [200, 200, 403, 403, 403, 403, 401]),
        row(get.clone(), "/api/v1/rooms/{r}/audit", None, [200, 200, 403, 403, 403, 403, 401]),
        row(put, "/api/v1/rooms/{r}/read", Some(json!({"position": 0})), [200, 200, 200, 200, 403, 403, 401]),
        row(get, "/api/v1/rooms/{r}/messages", None, [200, 200, 200, 200, 403, 403, 401]),
    ]
}

fn chrono_like_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn cell(api: &Api, cast: &Cast, row: &Row, caller: usize) -> (String, u16) {
    let room = cast.room(api).await;
    let path = row
        .path
        .replace("{r}", &room.to_string())
        .replace("{t}", &cast.target.id.to_string())
        .replace("{b}", &cast.banned.id.to_string());
    let token = cast.caller(caller).map(|m| m.token.as_str());
    let (status, body) = api.call(row.method.clone(), &path, token, row.body.clone()).await;
    (format!("{} {} as {}: {:?}", row.method, row.path, CALLERS[caller], body.0), status.as_u16())
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let cast = Cast::new(&api).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in rows(&cast) {
        let answers = join_all((0..CALLERS.len()).map(|caller| cell(&api, &cast, &row, caller))).await;
        for ((what, status), expected) in answers.into_iter().zip(row.expected) {
            cells += 1;
            if status != expected {
                failures.push(format!("{what}: got {status}, expected {expected}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cells} cells differ:\n{}", failures.len(), failures.join("\n"));

    // An admin cannot act on the owner or another admin; nobody grants "owner" by role change.
    let room = cast.room(&api).await;
    api.set_role(room, &cast.owner, &cast.target, "admin").await;
    for target in [&cast.owner, &cast.target] {
        let kick = format!("/api/v1/rooms/{room}/members/{}/kick", target.id);
        api.expect(StatusCode::FORBIDDEN, Method::POST, &kick, &cast.admin, None).await;
    }
    let promote = format!("/api/v1/rooms/{room}/members/{}/role", cast.member.id);
    api.expect(StatusCode::BAD_REQUEST, Method::PUT, &promote, &cast.owner, Some(json!({"role": "owner"})))
        .await;
    let audit = api
        .expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/audit"), &cast.admin, None)
        .await;
    let actions: Vec<&str> =
        audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..2], ["role_changed", "banned"], "newest first: {actions:?}");

    private_and_invite_only_rooms(&api, &cast).await;
}

/// Private rooms do not exist for outsiders; invite-only rooms are listed but need an invitation or
/// a link; search shows neither private rooms nor anything to anonymous clients.
async fn private_and_invite_only_rooms(api: &Api, cast: &Cast) {
    let unique = natter_test_support::unique_suffix();
    let private = api.create_room(&cast.owner, &format!("hidden {unique}"), "private", None).await;
    let path = format!("/api/v1/rooms/{private}");
    api.expect(StatusCode::NOT_FOUND, Method::GET, &path, &cast.outsider, None).await;
    api.expect(StatusCode::NOT_FOUND, Method::POST, &format!("{path}/join"), &cast.outsider, None).await;
    let search = format!("/api/v1/rooms?q=hidden%20{unique}");
    let found = api.expect(StatusCode::OK, Method::GET, &search, &cast.outsider, None).await;
    assert_eq!(found["rooms"], json!([]), "private rooms are not listed");
    assert_eq!(api.call(Method::GET, &search, None, None).await.0, StatusCode::UNAUTHORIZED);
    // An invitation reveals the room to the invitee, who can then join once.
    let invite = json!({"username": cast.outsider.username});
    api.expect(
        StatusCode::NO_CONTENT,
        Method::POST,
        &format!("{path}/invitations"),
        &cast.owner,
        Some(invite),
    )
    .await;
    api.expect(StatusCode::OK, Method::GET, &path, &cast.outsider, None).await;
    api.join(private, &cast.outsider).await;

    let club = api.create_room(&cast.owner, &format!("club {unique}"), "invite_only", None).await;
    let path = format!("/api/v1/rooms/{club}");
    api.expect(StatusCode::OK, Method::GET, &path, &cast.member, None).await;
    api.expect(StatusCode::FORBIDDEN, Method::POST, &format!("{path}/join"), &cast.member, None).await;
    let found = api
        .expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms?q=club%20{unique}"), &cast.member, None)
        .await;
    assert_eq!(found["rooms"][0]["id"], json!(club), "invite-only rooms are listed");
    // A link with one use: the first joins, the second is refused, a revoked link is refused.
    let link = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            &format!("{path}/invite-links"),
            &cast.owner,
            Some(json!({"max_uses": 1})),
        )
        .await;
    let code = link["code"].as_str().unwrap().to_owned();
    let accept = |code: &str| json!({"code": code});
    let joined = api
        .expect(StatusCode::OK, Method::POST, "/api/v1/invites/accept", &cast.member, Some(accept(&code)))
        .await;
    assert_eq!(joined["your_role"], "member");
    api.expect(
        StatusCode::NOT_FOUND,
        Method::POST,
        "/api/v1/invites/accept",
        &cast.observer,
        Some(accept(&code)),
    )
    .await;
    let second = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            &format!("{path}/invite-links"),
            &cast.owner,
            Some(json!({})),
        )
        .await;
    let listed =
        api.expect(StatusCode::OK, Method::GET, &format!("{path}/invite-links"), &cast.owner, None).await;
    assert!(
        listed.as_array().unwrap().iter().all(|l| l.get("code").is_none()),
        "codes are shown once: {listed}"
    );
    let revoke = format!("{path}/invite-links/{}", second["id"]);
    api.expect(StatusCode::NO_CONTENT, Method::DELETE, &revoke, &cast.owner, None).await;
    let code = second["code"].as_str().unwrap();
    api.expect(
        StatusCode::NOT_FOUND,
        Method::POST,
        "/api/v1/invites/accept",
        &cast.observer,
        Some(accept(code)),
    )
    .await;
    api.expect(
        StatusCode::NOT_FOUND,
        Method::POST,
        "/api/v1/invites/accept",
        &cast.observer,
        Some(accept("made-up")),
    )
    .await;
}

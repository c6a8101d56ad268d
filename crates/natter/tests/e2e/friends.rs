//! Friends over the API, with the live notice on the WebSocket: a request shows at once for its
//! recipient (`friends_changed`), accepting makes both friends (listed online first), declining and
//! cancelling withdraw it, asking back befriends; a member who accepts direct chats from friends only
//! refuses others' new chats (an existing chat goes on); a block ends the friendship and refuses
//! requests both ways.

use natter_proto::frames::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Ws, open};
use crate::stack::Stack;

async fn friends(api: &Api, who: &Member) -> Value {
    api.expect(StatusCode::OK, Method::GET, "/api/v1/friends", who, None).await
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|f| f["username"].as_str().unwrap().to_owned()).collect()
}

async fn told(ws: &mut Ws) {
    ws.recv_until(|f| matches!(f, ServerFrame::FriendsChanged).then_some(())).await;
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat, dan) =
        (api.member("ann").await, api.member("ben").await, api.member("cat").await, api.member("dan").await);
    let mut ben_ws = open(&stack.message_urls[1], &api.ws_token(&ben).await, &stack.web_url).await;
    let mut ann_ws = open(&stack.message_urls[0], &api.ws_token(&ann).await, &stack.web_url).await;

    // Ann asks Ben: he is told at once (on another pod), and sees it waiting.
    let request = |who: &Member, to: &Member| {
        let path = format!("/api/v1/friends/requests/{}", to.username);
        let (api, who) = (api.clone(), who.clone());
        async move { api.expect(StatusCode::OK, Method::PUT, &path, &who, None).await }
    };
    assert_eq!(request(&ann, &ben).await, json!("sent"));
    told(&mut ben_ws).await;
    assert_eq!(names(&friends(&api, &ben).await["incoming"]), [ann.username.as_str()]);
    assert_eq!(names(&friends(&api, &ann).await["outgoing"]), [ben.username.as_str()]);
    assert_eq!(request(&ann, &ben).await, json!("sent"), "asking twice changes nothing");

    // Ben accepts: both are friends, both are told.
    let accept = format!("/api/v1/friends/requests/{}/accept", ann.username);
    api.expect(StatusCode::NO_CONTENT, Method::POST, &accept, &ben, None).await;
    told(&mut ann_ws).await;
    let anns = friends(&api, &ann).await;
    assert_eq!(names(&anns["friends"]), [ben.username.as_str()]);
    // Ben's connection reaches presence with the pod's next heartbeat.
    let mut anns = anns;
    for _ in 0..100 {
        if anns["friends"][0]["presence"] == json!("online") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        anns = friends(&api, &ann).await;
    }
    assert_eq!(anns["friends"][0]["presence"], json!("online"), "{anns}");
    assert!(names(&anns["outgoing"]).is_empty());
    api.expect(StatusCode::NOT_FOUND, Method::POST, &accept, &ben, None).await;
    assert_eq!(request(&ben, &ann).await, json!("already_friends"));

    // Cat asks Ann, then cancels; Dan asks Ann, she declines; Ann asks Cat and Cat asks back.
    request(&cat, &ann).await;
    let cancel = format!("/api/v1/friends/requests/{}", ann.username);
    api.expect(StatusCode::NO_CONTENT, Method::DELETE, &cancel, &cat, None).await;
    request(&dan, &ann).await;
    let decline = format!("/api/v1/friends/requests/{}", dan.username);
    api.expect(StatusCode::NO_CONTENT, Method::DELETE, &decline, &ann, None).await;
    assert!(names(&friends(&api, &ann).await["incoming"]).is_empty());
    api.expect(StatusCode::NOT_FOUND, Method::DELETE, &decline, &ann, None).await;
    request(&ann, &cat).await;
    assert_eq!(request(&cat, &ann).await, json!("befriended"), "asking back is accepting");
    // Online friends first: Ben is connected, Cat is not.
    assert_eq!(names(&friends(&api, &ann).await["friends"]), [ben.username.as_str(), cat.username.as_str()]);

    // Privacy: Ann takes direct chats from friends only.
    let friends_only = json!({"direct_from": "friends"});
    api.expect(StatusCode::NO_CONTENT, Method::PUT, "/api/v1/me/privacy", &ann, Some(friends_only)).await;
    assert_eq!(friends(&api, &ann).await["direct_from"], json!("friends"));
    let direct_to_ann = format!("/api/v1/direct/{}", ann.username);
    let (status, body) = api.call(Method::PUT, &direct_to_ann, Some(&dan.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{:?}", body.0);
    assert!(body.0.to_string().contains("friends only"), "says why: {:?}", body.0);
    api.expect(StatusCode::OK, Method::PUT, &direct_to_ann, &ben, None).await;
    // Unfriended, Ben keeps the chat they have, and Cat (still a friend) may start one.
    api.expect(
        StatusCode::NO_CONTENT,
        Method::DELETE,
        &format!("/api/v1/friends/{}", ann.username),
        &ben,
        None,
    )
    .await;
    told(&mut ann_ws).await;
    api.expect(StatusCode::OK, Method::PUT, &direct_to_ann, &ben, None).await;
    api.expect(StatusCode::OK, Method::PUT, &direct_to_ann, &cat, None).await;
    let bad = json!({"direct_from": "nobody"});
    let (status, _) = api.call(Method::PUT, "/api/v1/me/privacy", Some(&ann.token), Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A block ends the friendship with Cat and refuses requests both ways.
    api.expect(StatusCode::NO_CONTENT, Method::PUT, &format!("/api/v1/blocks/{}", cat.username), &ann, None)
        .await;
    assert!(names(&friends(&api, &ann).await["friends"]).is_empty());
    assert!(names(&friends(&api, &cat).await["friends"]).is_empty());
    let (status, _) = api
        .call(Method::PUT, &format!("/api/v1/friends/requests/{}", ann.username), Some(&cat.token), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api
        .call(Method::PUT, &format!("/api/v1/friends/requests/{}", cat.username), Some(&ann.token), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Strangers and nonsense.
    let (status, _) =
        api.call(Method::PUT, "/api/v1/friends/requests/nobody-at-all", Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .call(Method::PUT, &format!("/api/v1/friends/requests/{}", ann.username), Some(&ann.token), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not oneself");
    let (status, _) = api.call(Method::GET, "/api/v1/friends", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

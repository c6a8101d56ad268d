//! The server-rendered pages (askama; HTML output is escaped by default) and the items they list.

use askama::Template;
use askama_web::WebTemplate;

use crate::page_format::VisibilityOption;

/// One room in a list.
pub(crate) struct RoomItem {
    pub id: i64,
    pub name: String,
}

/// One message in the history page.
pub(crate) struct HistoryItem {
    pub position: i64,
    pub sender: String,
    pub sent_at: String,
    /// Empty for a deleted message, which shows a placeholder in its place.
    pub text: String,
    pub edited: bool,
    pub deleted: bool,
    /// The message this one answers.
    pub reply_to: Option<natter_proto::events::ReplyTo>,
    /// The file it shares.
    pub file: Option<natter_proto::events::FileRef>,
    /// A whisper to or from the reader: who to whom ("Whisper to Ben", "Ann whispers to you"), and
    /// its id for the row's anchor. Whispers have no position of the room.
    pub whisper: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub error: Option<String>,
    pub username: String,
    /// Where to go after logging in (already checked to be a path on this site).
    pub next: String,
    pub csrf: String,
    /// Configured login providers.
    pub providers: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "friends.html")]
pub(crate) struct FriendsPage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    /// Online first, then away, then offline.
    pub friends: Vec<FriendItem>,
    pub incoming: Vec<FriendItem>,
    pub outgoing: Vec<FriendItem>,
    /// Only friends may start a direct chat with the member.
    pub friends_only: bool,
    /// What the last form post did (empty: nothing to say).
    pub notice: &'static str,
}

/// Someone on the friends page.
pub(crate) struct FriendItem {
    pub username: String,
    pub display_name: String,
    /// `online`, `away`, `offline` or `unknown`.
    pub state: &'static str,
    pub presence: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    /// The profile was just saved.
    pub saved: bool,
    /// Browsers the member is logged in on, newest first.
    pub devices: Vec<DeviceItem>,
    pub username: String,
    pub display_name: String,
    pub avatar_url: String,
    /// Providers linked to the member.
    pub linked: Vec<String>,
    /// Configured providers not linked yet.
    pub linkable: Vec<String>,
}

/// A browser the member is logged in on.
pub(crate) struct DeviceItem {
    pub agent: String,
    pub since: String,
    /// The browser looking at the page.
    pub this: bool,
}

/// The newest message of a room in the room list.
pub(crate) struct PreviewItem {
    pub sender: String,
    pub text: String,
    /// The member sent it ("You:").
    pub mine: bool,
}

/// One of the member's rooms in the room list.
pub(crate) struct MyRoomItem {
    pub id: i64,
    pub name: String,
    pub direct: bool,
    pub archived: bool,
    pub unread: u32,
    /// Unread messages that mention the member.
    pub mentions: u32,
    /// `unread`, or "100+" beyond the count's cap.
    pub unread_label: String,
    pub preview: Option<PreviewItem>,
    /// Position of the newest message (0: none yet), so the page's script resumes from it.
    pub last_position: i64,
    /// Latest activity (the newest message, or joining), in milliseconds since the epoch.
    pub activity_ms: i64,
    /// For a direct chat: the other member's picture.
    pub avatar: Option<String>,
}

/// The app's sidebar: the member's rooms and direct chats, latest activity first.
pub(crate) struct Sidebar {
    pub rooms: Vec<MyRoomItem>,
    /// More rooms than the sidebar lists (reachable with the quick switcher's search).
    pub more: bool,
    /// The room on screen (0: none).
    pub current: i64,
    /// For the page's script: who the member is and where the message host is.
    pub me: i64,
    pub ws_url: String,
    /// Friend requests waiting for the member's answer.
    pub friend_requests: usize,
}

/// A listed room found by the search.
pub(crate) struct FoundRoomItem {
    pub id: i64,
    pub name: String,
    pub topic: String,
    pub visibility: &'static str,
    pub member_count: u32,
    pub capacity: u32,
    pub archived: bool,
    /// The member is in the room (the name links to it).
    pub member: bool,
    /// A Join button: a public room, or one the member is invited to.
    pub joinable: bool,
    pub invited: bool,
    /// A ban in force, in words ("until 2026-12-01 10:00 UTC", "for good"): no Join button then.
    pub banned: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms.html")]
pub(crate) struct RoomsPage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    pub query: String,
    pub found: Vec<FoundRoomItem>,
    pub found_prev: Option<String>,
    pub found_next: Option<String>,
    pub visibilities: Vec<VisibilityOption>,
    /// An invite code from the link the member followed (`/rooms?invite=`), to accept with the form.
    pub invite: String,
}

/// The other member of a direct room.
pub(crate) struct PeerItem {
    pub username: String,
    pub display_name: String,
    /// The caller has blocked them.
    pub blocked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "room.html")]
pub(crate) struct RoomPage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    pub room: RoomItem,
    pub ws_url: String,
    pub topic: String,
    pub role: &'static str,
    pub visibility: &'static str,
    pub member_count: u32,
    pub capacity: u32,
    pub archived: bool,
    /// Why the member may read but not post, if so.
    pub read_only: Option<String>,
    pub muted_until: Option<String>,
    pub can_manage: bool,
    pub can_leave: bool,
    /// For a direct room: the other member.
    pub peer: Option<PeerItem>,
    /// Members with their presence, online first (at most [`crate::presence::MAX_LISTED`]).
    pub people: Vec<PersonItem>,
    /// Members not listed.
    pub more_people: usize,
    /// For the page's script: who the member is, where they stopped reading (0: nothing read), and
    /// whether they may post and delete others' messages.
    pub me_id: i64,
    pub read_position: i64,
    pub can_post: bool,
    pub can_react: bool,
    /// The member's notification choice for the room, and the choices.
    pub notify: &'static str,
    pub notify_choices: [(&'static str, &'static str); 3],
    pub can_moderate: bool,
}

/// A member in the room page's list.
pub(crate) struct PersonItem {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub presence: crate::presence::PresenceLabel,
    pub read_position: Option<i64>,
    pub you: bool,
    /// Their uploaded picture or avatar URL.
    pub avatar: Option<String>,
    pub role: &'static str,
}

/// A member in the manage page's table.
pub(crate) struct ManagedMember {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub muted_until: Option<String>,
    pub joined_at: String,
    pub you: bool,
    /// The caller outranks them (moderation forms are shown).
    pub moderatable: bool,
}

/// An invite link in the manage page.
pub(crate) struct LinkItem {
    pub id: i64,
    pub expires_at: String,
    pub uses: u32,
    pub max_uses: Option<u32>,
    /// Revoked, expired or used up.
    pub state: &'static str,
    pub active: bool,
}

/// A link created by this request: its code is shown once.
pub(crate) struct NewLinkItem {
    pub code: String,
    pub url: String,
    pub expires_at: String,
}

/// One audit record in the manage page.
pub(crate) struct ReportItem {
    pub at: String,
    pub reporter: String,
    pub author: String,
    pub text: String,
    pub reason: String,
    pub whisper: bool,
}

pub(crate) struct AuditItem {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "manage.html")]
pub(crate) struct ManagePage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    pub room: RoomItem,
    pub topic: String,
    pub capacity: u32,
    pub archived: bool,
    pub role: &'static str,
    pub owner: bool,
    pub visibilities: Vec<VisibilityOption>,
    /// Roles the caller may grant.
    pub grantable: Vec<&'static str>,
    pub members: Vec<ManagedMember>,
    pub links: Vec<LinkItem>,
    pub new_link: Option<NewLinkItem>,
    pub audit: Vec<AuditItem>,
    /// Reports of messages, newest first.
    pub reports: Vec<ReportItem>,
    /// What the last form post did.
    pub notice: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "history.html")]
pub(crate) struct HistoryPage {
    pub csrf: String,
    pub member_name: String,
    pub room: RoomItem,
    pub messages: Vec<HistoryItem>,
}

/// A stretch of a message's text, marked when it matched the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextSegment {
    pub text: String,
    pub marked: bool,
}

/// A message found by the search box.
pub(crate) struct SearchHitItem {
    /// The room at the message: `/rooms/{id}#m{position}`.
    pub href: String,
    /// The room's name, or the other member's for a direct chat.
    pub room: String,
    pub direct: bool,
    pub sender: String,
    pub mine: bool,
    pub sent_at: String,
    /// RFC 3339, for `<time datetime>`.
    pub sent_at_iso: String,
    pub sent_at_ms: i64,
    pub segments: Vec<TextSegment>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub csrf: String,
    pub member_name: String,
    pub sidebar: Sidebar,
    /// What was typed (empty: nothing searched yet).
    pub query: String,
    /// The number of the page's first hit (1 on the first page).
    pub first: usize,
    pub hits: Vec<SearchHitItem>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

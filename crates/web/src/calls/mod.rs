//! Voice and video calls: what web hands to clients so that media can flow peer to peer.
pub(crate) mod ice;

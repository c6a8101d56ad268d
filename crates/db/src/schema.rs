//! Table definitions, shared by both backends (the migrations of each create the same shape).

diesel::table! {
    members (id) {
        id -> BigInt,
        username_key -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        avatar_url -> Nullable<Text>,
        direct_from -> Text,
    }
}

diesel::table! {
    friend_requests (from_id, to_id) {
        from_id -> BigInt,
        to_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    message_reports (id) {
        id -> BigInt,
        room_id -> BigInt,
        reporter_id -> BigInt,
        message_id -> Text,
        whisper -> Bool,
        author_id -> BigInt,
        author_name -> Text,
        text -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    friendships (low_id, high_id) {
        low_id -> BigInt,
        high_id -> BigInt,
        since -> Timestamp,
    }
}

diesel::table! {
    rooms (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        name_key -> Text,
        topic -> Text,
        visibility -> Text,
        capacity -> Integer,
        member_count -> Integer,
        archived_at -> Nullable<Timestamp>,
        direct_key -> Nullable<Text>,
    }
}

diesel::table! {
    room_members (room_id, member_id) {
        room_id -> BigInt,
        member_id -> BigInt,
        role -> Text,
        joined_at -> Timestamp,
        muted_until -> Nullable<Timestamp>,
        read_position -> Nullable<BigInt>,
        notify -> Text,
    }
}

diesel::table! {
    room_bans (room_id, member_id) {
        room_id -> BigInt,
        member_id -> BigInt,
        until -> Nullable<Timestamp>,
        banned_by -> BigInt,
        banned_at -> Timestamp,
    }
}

diesel::table! {
    room_invitations (room_id, member_id) {
        room_id -> BigInt,
        member_id -> BigInt,
        invited_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invite_links (id) {
        id -> BigInt,
        room_id -> BigInt,
        code_hash -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    room_audit (id) {
        id -> BigInt,
        room_id -> BigInt,
        actor_id -> BigInt,
        action -> Text,
        target_id -> Nullable<BigInt>,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    member_blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    room_files (id) {
        id -> Text,
        room_id -> BigInt,
        uploader_id -> BigInt,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        thumb_width -> Nullable<Integer>,
        thumb_height -> Nullable<Integer>,
        storage_key -> Text,
        message_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(room_audit -> rooms (room_id));

diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> members (member_id));
diesel::allow_tables_to_appear_in_same_query!(
    members,
    rooms,
    room_members,
    refresh_tokens,
    oauth_identities,
    room_bans,
    room_invitations,
    invite_links,
    room_audit,
    member_blocks,
    room_files,
    friend_requests,
    friendships,
    message_reports
);

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        family_id -> Text,
        member_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> members (member_id));

diesel::table! {
    oauth_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        member_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(oauth_identities -> members (member_id));

diesel::table! {
    push_subscriptions (id) {
        id -> BigInt,
        member_id -> BigInt,
        endpoint -> Text,
        p256dh -> Text,
        auth -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(push_subscriptions -> members (member_id));

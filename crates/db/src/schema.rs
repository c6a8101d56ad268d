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
    }
}

diesel::table! {
    rooms (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    room_members (room_id, member_id) {
        room_id -> BigInt,
        member_id -> BigInt,
        role -> Text,
        joined_at -> Timestamp,
    }
}

diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> members (member_id));
diesel::allow_tables_to_appear_in_same_query!(members, rooms, room_members, refresh_tokens, oauth_identities);

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

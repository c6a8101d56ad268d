-- See the PostgreSQL migration of the same name: `from:@name` alone reads that sender's messages.
CREATE INDEX message_search_by_sender ON message_search (sender_id, sent_at_ms);

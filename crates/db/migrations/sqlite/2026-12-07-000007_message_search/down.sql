DROP TABLE message_search_fts;
DROP TABLE message_search;

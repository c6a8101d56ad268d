DROP INDEX message_search_by_sender;

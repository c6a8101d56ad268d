DROP TABLE message_reports;

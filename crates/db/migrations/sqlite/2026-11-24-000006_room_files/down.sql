DROP TABLE room_files;

DROP TABLE room_members;
DROP TABLE rooms;
DROP TABLE members;

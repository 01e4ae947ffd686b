-- undo 20250101090000 create_users
DROP TABLE users;

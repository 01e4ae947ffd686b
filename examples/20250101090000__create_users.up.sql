-- Description: Create users table
-- Author: Jane Doe
-- Created: 2025-01-01
-- @risk-level: low
-- @zero-downtime: true
-- @estimated-duration: 5 seconds
-- @environments: development, staging, production

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL,
    full_name   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$')
);

-- e-mail addresses are unique regardless of case
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

COMMENT ON TABLE users IS 'customer accounts of the shop';

-- Users of TicketFlow. E-mail addresses are stored trimmed and lowercased by the service;
-- the unique index on lower(email) makes uniqueness case-insensitive even for rows written
-- by hand, and it is what turns a racing duplicate registration into 409, never a second row.
CREATE TABLE users (
    id            UUID        PRIMARY KEY,
    name          TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    email         TEXT        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'ADMIN')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

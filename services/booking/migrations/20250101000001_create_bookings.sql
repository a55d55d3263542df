-- Bookings and where each stands in the saga. `status` is what clients see; `step` is the
-- saga's finer position. Event name, date, venue and price are copied from event-service
-- when the booking is made (the client never sets them).
CREATE TABLE bookings (
    id              UUID        PRIMARY KEY,
    user_id         UUID        NOT NULL,
    user_email      TEXT        NOT NULL,
    event_id        UUID        NOT NULL,
    event_name      TEXT        NOT NULL,
    event_date      TIMESTAMPTZ NOT NULL,
    venue_name      TEXT        NOT NULL,
    seat_ids        UUID[]      NOT NULL CHECK (cardinality(seat_ids) BETWEEN 1 AND 100),
    seat_labels     TEXT[]      NOT NULL DEFAULT '{}',
    status          TEXT        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED')),
    step            TEXT        NOT NULL CHECK (step IN ('AWAITING_SEATS', 'AWAITING_PAYMENT', 'CONFIRMED', 'FAILED', 'CANCELLED')),
    total_minor     BIGINT      NOT NULL CHECK (total_minor >= 0),
    currency        TEXT        NOT NULL,
    payment_id      UUID,
    failure_reason  TEXT,
    -- A retried create with the same key returns this booking instead of making another.
    idempotency_key TEXT        CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    TEXT        NOT NULL,
    -- A booking still PENDING at this time fails with TIMEOUT.
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at    TIMESTAMPTZ,
    cancelled_at    TIMESTAMPTZ
);

CREATE UNIQUE INDEX bookings_idempotency_key ON bookings (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX bookings_user ON bookings (user_id, created_at DESC);
CREATE INDEX bookings_pending ON bookings (expires_at) WHERE status = 'PENDING';

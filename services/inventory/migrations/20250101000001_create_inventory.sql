-- Seat inventory. `seats` is the fixed layout of each event; `seat_holds` has one row per
-- seat that is not AVAILABLE. Its primary key is what makes a second hold on a seat (two
-- locks, two reservations, or one of each) impossible, whatever the code above it does:
-- a racing insert waits for the first one's transaction and then conflicts.

CREATE TABLE event_inventory (
    event_id   UUID        PRIMARY KEY,
    total      INTEGER     NOT NULL CHECK (total >= 0),
    -- Grows with every change of this event's seats; orders availability messages and
    -- the live stream's seat events. Bumping it also serialises changes per event.
    version    BIGINT      NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE seats (
    id          UUID    PRIMARY KEY,
    event_id    UUID    NOT NULL REFERENCES event_inventory (event_id) ON DELETE CASCADE,
    -- Place in the layout (section, row, number): the seat map's order.
    position    INTEGER NOT NULL CHECK (position >= 0),
    section     TEXT    NOT NULL CHECK (section IN ('VIP', 'FLOOR', 'BALCONY', 'GENERAL')),
    row_label   TEXT    NOT NULL CHECK (char_length(row_label) BETWEEN 1 AND 8),
    seat_number INTEGER NOT NULL CHECK (seat_number > 0),
    UNIQUE (event_id, position),
    UNIQUE (event_id, row_label, seat_number)
);

CREATE TABLE seat_holds (
    seat_id         UUID        PRIMARY KEY REFERENCES seats (id) ON DELETE CASCADE,
    event_id        UUID        NOT NULL,
    booking_id      UUID        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('LOCKED', 'RESERVED')),
    -- A lock lapses at this time (the sweeper frees it); a reservation never does.
    lock_expires_at TIMESTAMPTZ,
    held_since      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'LOCKED') = (lock_expires_at IS NOT NULL))
);

CREATE INDEX seat_holds_booking ON seat_holds (booking_id);
CREATE INDEX seat_holds_event ON seat_holds (event_id, status);
CREATE INDEX seat_holds_expiry ON seat_holds (lock_expires_at) WHERE status = 'LOCKED';

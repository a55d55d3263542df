-- Seat counts kept with the event's version, so publishing availability after a change reads
-- one row instead of counting every hold of the event (which grew with the event's sales
-- and ran inside the version row lock). The checks turn any drift into a failed change
-- rather than a wrong number.
ALTER TABLE event_inventory
    ADD COLUMN locked   INTEGER NOT NULL DEFAULT 0 CHECK (locked >= 0),
    ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    ADD CONSTRAINT event_inventory_counts_fit CHECK (locked + reserved <= total);

UPDATE event_inventory e SET
    locked   = (SELECT count(*) FROM seat_holds h WHERE h.event_id = e.event_id AND h.status = 'LOCKED'),
    reserved = (SELECT count(*) FROM seat_holds h WHERE h.event_id = e.event_id AND h.status = 'RESERVED');

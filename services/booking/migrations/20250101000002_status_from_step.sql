-- `status` is what clients see of `step`: derive it, so the two can never disagree.
ALTER TABLE bookings DROP COLUMN status;
ALTER TABLE bookings ADD COLUMN status TEXT NOT NULL GENERATED ALWAYS AS (
    CASE step
        WHEN 'AWAITING_SEATS' THEN 'PENDING'
        WHEN 'AWAITING_PAYMENT' THEN 'PENDING'
        ELSE step
    END
) STORED;
-- Dropped with the old column.
CREATE INDEX bookings_pending ON bookings (expires_at) WHERE status = 'PENDING';

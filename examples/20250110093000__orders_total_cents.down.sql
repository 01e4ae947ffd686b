-- undo 20250110093000 orders_total_cents
ALTER TABLE orders DROP CONSTRAINT orders_total_cents_nonnegative;
ALTER TABLE orders DROP COLUMN total_cents;

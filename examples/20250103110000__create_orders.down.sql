-- undo 20250103110000 create_orders
BEGIN;

DROP TABLE order_items;
DROP TABLE orders;
DROP TYPE order_status;

COMMIT;

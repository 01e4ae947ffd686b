-- Description: Add orders.total_cents and backfill it from the order items
-- Author: Priya Natarajan
-- Created: 2025-01-10
-- @dependencies: 20250103110000
-- @risk-level: medium
-- @zero-downtime: false
-- @estimated-duration: 1 min 30 s
-- @environments: development, staging, production

-- A constant default is instant on PostgreSQL 11 and later (no table rewrite).
ALTER TABLE orders ADD COLUMN total_cents bigint NOT NULL DEFAULT 0;

-- Backfill existing orders from their items.
UPDATE orders o
   SET total_cents = s.total
  FROM (SELECT order_id, sum(quantity::bigint * unit_price_cents) AS total
          FROM order_items
         GROUP BY order_id) s
 WHERE s.order_id = o.id
   AND o.total_cents IS DISTINCT FROM s.total;

ALTER TABLE orders ADD CONSTRAINT orders_total_cents_nonnegative CHECK (total_cents >= 0);

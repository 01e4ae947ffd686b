-- Description: Daily sales report view for the back office
-- Author: Priya Natarajan
-- Created: 2025-01-20
-- @dependencies: 20250110093000, 20250115120000
-- @risk-level: low
-- @zero-downtime: true
-- @estimated-duration: 2 seconds
-- @environments: development, staging, production

CREATE VIEW daily_sales AS
SELECT date_trunc('day', o.placed_at)::date AS day,
       count(*)                             AS orders,
       sum(o.total_cents)                   AS revenue_cents,
       count(*) FILTER (WHERE o.coupon_code IS NOT NULL) AS orders_with_coupon
  FROM orders o
 WHERE o.status IN ('paid', 'shipped')
 GROUP BY 1;

COMMENT ON VIEW daily_sales IS 'paid and shipped orders per day';

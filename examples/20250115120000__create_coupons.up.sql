-- Description: Create coupons and let an order use one
-- Author: Jane Doe
-- Created: 2025-01-15
-- @dependencies: 20250103110000
-- @risk-level: medium
-- @zero-downtime: true
-- @estimated-duration: 20 seconds
-- @environments: development, staging, production

CREATE TABLE coupons (
    code           text PRIMARY KEY CHECK (code ~ '^[A-Z0-9-]{4,32}$'),
    percent_off    smallint NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_until    timestamptz,
    max_uses       integer CHECK (max_uses > 0),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
);

ALTER TABLE orders ADD COLUMN coupon_code text REFERENCES coupons (code);

CREATE INDEX orders_coupon_code_idx ON orders (coupon_code) WHERE coupon_code IS NOT NULL;

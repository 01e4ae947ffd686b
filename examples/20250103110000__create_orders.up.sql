-- Description: Create orders and order items
-- Author: Omar Haddad
-- Created: 2025-01-03
-- @dependencies: 20250101090000, 20250102100000
-- @risk-level: medium
-- @zero-downtime: true
-- @estimated-duration: 10 seconds
-- @environments: development, staging, production

-- Written Sqitch style: the BEGIN/COMMIT pair is accepted and ignored,
-- migrate runs every migration in its own transaction anyway.
BEGIN;

CREATE TYPE order_status AS ENUM ('cart', 'placed', 'paid', 'shipped', 'cancelled');

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    status      order_status NOT NULL DEFAULT 'cart',
    placed_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TABLE order_items (
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id        bigint NOT NULL REFERENCES products (id),
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX order_items_product_id_idx ON order_items (product_id);

COMMIT;

-- Description: Create products catalogue
-- Author: Jane Doe
-- Created: 2025-01-02
-- @risk-level: low
-- @zero-downtime: true
-- @estimated-duration: 5 s
-- @environments: development, staging, production

CREATE TABLE products (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku          text NOT NULL UNIQUE,
    name         text NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents >= 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_active_name_idx ON products (name) WHERE active;

COMMENT ON COLUMN products.price_cents IS 'unit price in euro cents, VAT included';

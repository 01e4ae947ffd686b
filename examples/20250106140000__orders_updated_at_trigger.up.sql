-- Description: Keep orders.updated_at current with a trigger
-- Author: Omar Haddad
-- Created: 2025-01-06
-- @dependencies: 20250103110000
-- @risk-level: low
-- @zero-downtime: true
-- @estimated-duration: 500 ms
-- @environments: development, staging, production

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
BEGIN
    -- only touch the timestamp when something actually changed;
    -- a no-op UPDATE keeps the old value
    IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION set_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at when a row changes';

CREATE TRIGGER orders_set_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

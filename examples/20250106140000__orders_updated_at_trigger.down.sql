-- undo 20250106140000 orders_updated_at_trigger
DROP TRIGGER orders_set_updated_at ON orders;
DROP FUNCTION set_updated_at();

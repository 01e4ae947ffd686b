-- undo 20250115120000 create_coupons
DROP INDEX orders_coupon_code_idx;
ALTER TABLE orders DROP COLUMN coupon_code;
DROP TABLE coupons;

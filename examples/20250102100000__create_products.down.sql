-- undo 20250102100000 create_products
DROP TABLE products;

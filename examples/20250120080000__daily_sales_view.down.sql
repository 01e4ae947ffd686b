-- undo 20250120080000 daily_sales_view
DROP VIEW daily_sales;

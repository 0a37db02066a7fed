-- Customers' data rights (issue 19): an erasure marks the customers and conversations it
-- redacted, so repeating it finds nothing left to do and the console can say so. The retention
-- sweep finds old conversations through conversations_by_activity (0009).
ALTER TABLE customers ADD COLUMN erased_at INTEGER;
ALTER TABLE conversations ADD COLUMN erased_at INTEGER;
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (tenant_id, email);
CREATE INDEX IF NOT EXISTS customers_by_phone ON customers (tenant_id, phone);

-- Leads: details the AI read in a customer's messages wait here for an agent (JSON object
-- field -> value), apart from the lead's confirmed values.
ALTER TABLE leads ADD COLUMN proposed TEXT NOT NULL DEFAULT '{}';

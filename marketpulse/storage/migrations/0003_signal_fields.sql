-- Signals carry the fields their wire record has: ts (the bar start), kind, strength, details.
ALTER TABLE signals RENAME COLUMN bar_start TO ts;
ALTER TABLE signals RENAME COLUMN family TO kind;
ALTER TABLE signals RENAME COLUMN value TO strength;
ALTER TABLE signals RENAME COLUMN detail TO details;
ALTER INDEX signals_symbol_time RENAME TO signals_symbol_ts;
ALTER INDEX signals_name_time RENAME TO signals_name_ts;

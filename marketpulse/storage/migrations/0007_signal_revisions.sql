-- A signal restated by a revised bar carries the bar's revision; one withdrawn is deleted.
ALTER TABLE signals ADD COLUMN revision integer NOT NULL DEFAULT 0;

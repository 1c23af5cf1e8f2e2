-- Each source's trade-condition rules as last fetched from its vendor: a source that starts
-- while the vendor cannot be reached keeps the last good table, and the health check says how
-- old it is and why the last refresh failed. A source never fetched has no rules here (it uses
-- the table shipped in the package) but may have an error.
CREATE TABLE condition_tables (
    source TEXT PRIMARY KEY,
    -- condition code -> the parts of a bar it lets a trade update (1 open and close,
    -- 2 high and low, 4 volume)
    rules JSONB,
    version TEXT,
    fetched_at TIMESTAMPTZ,
    checked_at TIMESTAMPTZ NOT NULL,
    error TEXT
);

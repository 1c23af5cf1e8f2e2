-- Full-text search over symbols (built in; pg_trgm would need contrib and CREATE privileges).
ALTER TABLE symbols ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple',
        symbol || ' ' || name || ' ' || coalesce(exchange, '') || ' ' ||
        coalesce(sector, '') || ' ' || coalesce(industry, ''))
) STORED;
CREATE INDEX symbols_search ON symbols USING GIN (search);
CREATE INDEX symbols_sector ON symbols (sector);
CREATE INDEX signals_name_time ON signals (name, bar_start DESC);

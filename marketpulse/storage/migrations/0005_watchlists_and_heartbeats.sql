-- A running job stamps seen_at at every flush of its counts, so a source that died without
-- saying so (killed, its host gone) stops counting as live once its stamp is old.
ALTER TABLE data_ingestion_jobs ADD COLUMN seen_at TIMESTAMPTZ;

-- Each user's watch list, in the order the user keeps it.
CREATE TABLE watchlists (
    user_id UUID PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    symbols TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

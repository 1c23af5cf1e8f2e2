-- The relational schema of docs/architecture.md, plus signals (queried by the API) and job results.
CREATE TABLE users (
    user_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username VARCHAR(50) UNIQUE NOT NULL,
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    full_name VARCHAR(255),
    is_active BOOLEAN NOT NULL DEFAULT true,
    roles TEXT[] NOT NULL DEFAULT ARRAY['user'],
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE user_sessions (
    session_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    refresh_token_hash VARCHAR(255),
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE symbols (
    symbol VARCHAR(32) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    exchange VARCHAR(50),
    sector VARCHAR(100),
    industry VARCHAR(100),
    market_cap BIGINT,
    is_active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE data_ingestion_jobs (
    job_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    symbols TEXT[],
    data_type VARCHAR(50),
    status VARCHAR(20),
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    records_processed INTEGER NOT NULL DEFAULT 0,
    errors_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE job_results (
    job_id UUID NOT NULL REFERENCES data_ingestion_jobs(job_id) ON DELETE CASCADE,
    symbol VARCHAR(32) NOT NULL,
    records INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    PRIMARY KEY (job_id, symbol)
);

CREATE TABLE audit_logs (
    audit_id BIGSERIAL PRIMARY KEY,
    user_id UUID REFERENCES users(user_id) ON DELETE SET NULL,
    action VARCHAR(100) NOT NULL,
    resource VARCHAR(255),
    detail JSONB NOT NULL DEFAULT '{}'::jsonb,
    ip_address INET,
    request_id VARCHAR(64),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_created ON audit_logs (created_at);

CREATE TABLE signals (
    symbol VARCHAR(32) NOT NULL,
    granularity VARCHAR(8) NOT NULL,
    bar_start BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    family VARCHAR(16) NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    direction VARCHAR(8) NOT NULL,
    detail JSONB NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (symbol, granularity, bar_start, name)
);
CREATE INDEX signals_symbol_time ON signals (symbol, bar_start DESC);

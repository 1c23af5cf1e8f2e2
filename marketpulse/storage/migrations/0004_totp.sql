-- Optional TOTP second factor. The secret is set at enrolment and used once confirmed
-- (totp_enabled); totp_last_step is the newest time step accepted, so a code works only once.
ALTER TABLE users
    ADD COLUMN totp_secret VARCHAR(64),
    ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

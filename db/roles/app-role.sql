-- Privileges of the app's own database role in production (README: "A database role that
-- cannot rewrite the log"). Run as the database owner after `npm run db:migrate`, with the
-- role already created: CREATE ROLE account_logs_app LOGIN PASSWORD '…';
-- The log: write rows into the inbox and read the sealed log, never change or remove either.
-- The sealer, the counters and the checkpoints are written by functions that run as their owner
-- (SECURITY DEFINER), so the role only reads them and calls those functions.
GRANT USAGE ON SCHEMA public, drizzle TO account_logs_app;
GRANT SELECT ON drizzle.__drizzle_migrations TO account_logs_app;
-- Rows enter the inbox through the columns the app writes, and no others: not `id` (a row written
-- with a huge `id`, OVERRIDING SYSTEM VALUE, would collide with the IDs drawn after it). The log
-- itself is written by the sealer only: the role may read it, not insert into it.
REVOKE ALL ON account_logs, account_log_inbox FROM account_logs_app;
GRANT SELECT ON account_logs, account_log_inbox TO account_logs_app;
GRANT INSERT (username, username_truncated, username_normalized, user_id, result, ip, metadata) ON account_log_inbox TO account_logs_app;
GRANT SELECT ON account_log_usernames, account_log_totals, account_log_username_results, account_log_hours,
  account_log_address_results, account_log_failure_hours, account_log_hour_ceilings, account_log_hour_floors,
  account_log_country_hours, account_log_country_results, account_log_seal_state, account_log_checkpoints, account_log_months,
  account_log_verifications TO account_logs_app;
-- Sealing and checkpoints go through the owner's functions, which compute what they store: every
-- app instance calls the sealer, and one at a time seals. The role cannot lock the seal state
-- (FOR UPDATE needs UPDATE), write a seal, a checkpoint or a verification record directly.
REVOKE ALL ON FUNCTION account_log_seal(integer), account_log_checkpoint(bigint, bytea, timestamptz, text, bytea),
  account_log_add_partitions(timestamptz), account_log_raise_hour_bounds(timestamptz, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_log_seal(integer), account_log_checkpoint(bigint, bytea, timestamptz, text, bytea) TO account_logs_app;
-- Retention: months leave only through the owner's function, below a boundary signed with the key
-- the database never holds (docs/audit.md, "Retention"); the boundaries are read by verify and the API.
-- The app's role may cut only below the owner's floor (account_log_retention_floor, 12 months by
-- default) and only with archives; each cut leaves its boundary and a logs_retained row.
REVOKE ALL ON FUNCTION account_log_retain(timestamptz, bigint, bytea, timestamptz, text, bytea, jsonb, text[], integer[], jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_log_retain(timestamptz, bigint, bytea, timestamptz, text, bytea, jsonb, text[], integer[], jsonb) TO account_logs_app;
GRANT SELECT ON account_log_boundaries, account_log_retention_floor TO account_logs_app;
-- A session of this role that calls the sealer and then holds its transaction open, or runs one
-- statement for ever, is ended within these times, and sealing resumes.
ALTER ROLE account_logs_app SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE account_logs_app SET statement_timeout = '60s';
-- What the app's connections ask for themselves (db/index.ts), also for a pooler that drops
-- startup parameters: no JIT for statements of milliseconds.
ALTER ROLE account_logs_app SET jit = off;
-- Where each account signed in from: state beside the log, which sign-in keeps up to date.
GRANT SELECT, INSERT, UPDATE ON account_sign_in_places TO account_logs_app;
GRANT SELECT, INSERT, UPDATE ON users TO account_logs_app;
-- Session records: made at sign-in, marked seen and revoked, and deleted a day after they end.
GRANT SELECT, INSERT, UPDATE, DELETE ON user_sessions TO account_logs_app;
-- API tokens: made, marked used and revoked by the app (only their hashes are stored), and never
-- otherwise changed (a trigger refuses the rest, to the owner too); refusals counted per address
-- and minute, and removed after a day.
REVOKE ALL ON api_tokens FROM account_logs_app;
GRANT SELECT ON api_tokens TO account_logs_app;
GRANT INSERT (name, token_hash, hint, scopes, created_by, expires_at) ON api_tokens TO account_logs_app;
GRANT UPDATE (revoked_at, revoked_by, last_used_at, last_used_ip, last_refused_at) ON api_tokens TO account_logs_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_token_refusals TO account_logs_app;
-- Log streams: added, sent (cursor, lease, batch), replayed and removed by the app; their secrets
-- are sealed with a key the database never holds (STREAM_SECRET_KEY).
GRANT SELECT, INSERT, UPDATE, DELETE ON log_streams TO account_logs_app;
-- Alert rules (their webhook secrets sealed like the streams'), where detection has read up to,
-- and the alerts to send, kept a while after they are sent.
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rules TO account_logs_app;
GRANT SELECT, UPDATE ON alert_state TO account_logs_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_deliveries TO account_logs_app;
-- No temporary tables: nothing the role creates can stand in for a table a trigger uses.
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;

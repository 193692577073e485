-- Privileges of the app's own database role in production (README: "A database role that
-- cannot rewrite the log"). Run as the database owner after `npm run db:migrate`, with the
-- role already created: CREATE ROLE account_logs_app LOGIN PASSWORD '…';
-- The log: add and read rows, never change or remove them. The counters and the chain are
-- written by triggers that run as their owner, so the role only reads them.
GRANT USAGE ON SCHEMA public, drizzle TO account_logs_app;
GRANT SELECT ON drizzle.__drizzle_migrations TO account_logs_app;
-- Rows are inserted through the columns the app writes, and no others: not `id` (a row written
-- with a huge `id`, OVERRIDING SYSTEM VALUE, would make every later insert collide and stop every
-- sign-in), and not the columns the triggers set.
REVOKE INSERT ON account_logs FROM account_logs_app;
GRANT SELECT ON account_logs TO account_logs_app;
GRANT INSERT (username, username_truncated, username_normalized, user_id, result, ip, metadata) ON account_logs TO account_logs_app;
GRANT SELECT ON account_log_usernames, account_log_totals, account_log_username_results, account_log_hours,
  account_log_address_results, account_log_failure_hours, account_log_hour_ceilings, account_log_hour_floors,
  account_log_country_hours, account_log_country_results TO account_logs_app;
-- Where each account signed in from: state beside the log, which sign-in keeps up to date.
GRANT SELECT, INSERT, UPDATE ON account_sign_in_places TO account_logs_app;
GRANT SELECT, INSERT ON account_log_verifications TO account_logs_app;
GRANT SELECT, INSERT, UPDATE ON users TO account_logs_app;
-- Session records: made at sign-in, marked seen and revoked, and deleted a day after they end.
GRANT SELECT, INSERT, UPDATE, DELETE ON user_sessions TO account_logs_app;
-- No temporary tables: nothing the role creates can stand in for a table a trigger uses.
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;

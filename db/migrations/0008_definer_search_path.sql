-- Triggers that run as their owner must not resolve names in the caller's temporary schema,
-- which PostgreSQL searches first unless pg_temp is listed: a role allowed to create temporary
-- tables could otherwise shadow the counters or the log inside them.
ALTER FUNCTION "account_logs_count_insert"() SET search_path = pg_catalog, public, pg_temp;--> statement-breakpoint
ALTER FUNCTION "account_logs_hash_chain"() SET search_path = pg_catalog, public, pg_temp;

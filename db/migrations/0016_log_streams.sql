CREATE TABLE "log_streams" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "log_streams_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"url" text NOT NULL,
	"target" text NOT NULL,
	"format" text NOT NULL,
	"secret" text,
	"headers" text,
	"ca" text,
	"tls_cert" text,
	"tls_key" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"cursor_seq" bigint DEFAULT 0 NOT NULL,
	"batch_through" bigint,
	"batch_id" text,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"delivered_rows" bigint DEFAULT 0 NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" integer,
	CONSTRAINT "log_streams_name_check" CHECK (char_length("name") between 1 and 100),
	CONSTRAINT "log_streams_url_check" CHECK (char_length("url") between 1 and 2048),
	CONSTRAINT "log_streams_kind_check" CHECK ("kind" in ('webhook', 'syslog')),
	CONSTRAINT "log_streams_format_check" CHECK ("format" in ('json', 'ocsf', 'ecs', 'cef')),
	CONSTRAINT "log_streams_batch_check" CHECK ("batch_through" is null or "batch_through" > "cursor_seq")
);
--> statement-breakpoint
ALTER TABLE "log_streams" ADD CONSTRAINT "log_streams_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Four new results, checked as in 0015: the inbox in full, the log for rows sealed from now on.
ALTER TABLE "account_log_inbox" DROP CONSTRAINT "account_log_inbox_result_check";--> statement-breakpoint
ALTER TABLE "account_log_inbox" ADD CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed'));--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed')) NOT VALID;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed']::text[], "result") - 1)
$$;
--> statement-breakpoint
-- The sealer's statements are written for reuse: a session that asks for a plan per run (an
-- operator's plan_cache_mode) would otherwise plan them again at every batch, a third slower.
ALTER FUNCTION "account_log_seal"(integer) SET plan_cache_mode = auto;

CREATE TABLE "user_sessions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "user_sessions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"key_hash" "bytea" NOT NULL,
	"user_id" integer NOT NULL,
	"session_version" integer NOT NULL,
	"device" text,
	"ip" "inet",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text,
	"revoked_by" integer,
	CONSTRAINT "user_sessions_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "user_sessions" ADD CONSTRAINT "user_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_sessions" ADD CONSTRAINT "user_sessions_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "user_sessions_user_id_idx" ON "user_sessions" USING btree ("user_id") WHERE "user_sessions"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "user_sessions_expires_at_idx" ON "user_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "user_sessions_revoked_at_idx" ON "user_sessions" USING btree ("revoked_at") WHERE "user_sessions"."revoked_at" is not null;--> statement-breakpoint
-- NOT VALID: every existing row already met the old, narrower check, so the log is not scanned
-- (at 10 M rows a scan holds inserts, and so sign-ins, for about a minute). New rows are checked.
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("account_logs"."result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked')) NOT VALID;--> statement-breakpoint
-- The new result's bit in "results_seen": appended at the end, as ACCOUNT_LOG_RESULTS has it.
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked']::text[], "result") - 1)
$$;

CREATE TABLE "api_tokens" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"hint" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" integer,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" integer,
	"last_used_at" timestamp with time zone,
	"last_used_ip" "inet",
	"last_refused_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "api_tokens_name_check" CHECK (char_length("name") between 1 and 100),
	CONSTRAINT "api_tokens_scopes_check" CHECK (cardinality("scopes") > 0 and "scopes" <@ array['logs:read', 'metrics:read']::text[])
);
--> statement-breakpoint
CREATE TABLE "api_token_refusals" (
	"ip" "inet" NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"refusals" integer NOT NULL,
	CONSTRAINT "api_token_refusals_ip_minute_pk" PRIMARY KEY("ip","minute")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_token_refusals_minute_idx" ON "api_token_refusals" USING btree ("minute");--> statement-breakpoint
-- Three new results. The inbox is small and is checked in full. The log is checked for the rows
-- sealed from now on (NOT VALID): every row already in it passed the inbox's check, and a full
-- check of a large log would hold it locked against readers for the whole scan.
ALTER TABLE "account_log_inbox" DROP CONSTRAINT "account_log_inbox_result_check";--> statement-breakpoint
ALTER TABLE "account_log_inbox" ADD CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused'));--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused')) NOT VALID;
--> statement-breakpoint
-- Each result's bit in account_log_usernames.results_seen, in the order of ACCOUNT_LOG_RESULTS.
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused']::text[], "result") - 1)
$$;
--> statement-breakpoint
-- A token, once made, changes only by being used and by being revoked, once: its hash, scopes,
-- expiry and name stay as made and logged, a revocation is not undone, and no token is deleted.
-- Whoever runs the statement; the app's role also lacks the grants (db/roles/app-role.sql).
CREATE FUNCTION "api_tokens_refuse_change"() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'API tokens are kept for the record: revoke one instead of deleting it' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW."id", NEW."name", NEW."token_hash", NEW."hint", NEW."scopes", NEW."created_at", NEW."created_by", NEW."expires_at")
     IS DISTINCT FROM (OLD."id", OLD."name", OLD."token_hash", OLD."hint", OLD."scopes", OLD."created_at", OLD."created_by", OLD."expires_at")
     OR (OLD."revoked_at" IS NOT NULL AND (NEW."revoked_at", NEW."revoked_by") IS DISTINCT FROM (OLD."revoked_at", OLD."revoked_by")) THEN
    RAISE EXCEPTION 'an API token changes only by its use and its revocation' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "api_tokens_refuse_change" BEFORE UPDATE OR DELETE ON "api_tokens" FOR EACH ROW EXECUTE FUNCTION "api_tokens_refuse_change"();

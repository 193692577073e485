CREATE TABLE "alert_rules" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_rules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"events" text[] NOT NULL,
	"webhook_url" text,
	"webhook_target" text,
	"webhook_secret" text,
	"email_to" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"from_seq" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" integer,
	CONSTRAINT "alert_rules_name_check" CHECK (char_length("name") between 1 and 100),
	CONSTRAINT "alert_rules_events_check" CHECK (cardinality("events") between 1 and 4 and "events" <@ array['account_locked', 'password_spraying', 'throttle_tripped', 'account_unlocked']::text[]),
	CONSTRAINT "alert_rules_destination_check" CHECK (("webhook_target" is not null) = ("webhook_secret" is not null) and ("webhook_target" is not null or cardinality("email_to") between 1 and 20))
);
--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Where alert detection has read the sealed log up to: one row, taken by one instance at a time.
CREATE TABLE "alert_state" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"cursor_seq" bigint NOT NULL,
	CONSTRAINT "alert_state_single_row" CHECK ("id")
);
--> statement-breakpoint
INSERT INTO "alert_state" ("id", "cursor_seq") SELECT true, "seq" FROM "account_log_seal_state";--> statement-breakpoint
-- One row per event, rule and channel: made once (the unique key), sent until it is delivered.
CREATE TABLE "alert_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"rule_id" integer NOT NULL,
	"channel" text NOT NULL,
	"event_key" text NOT NULL,
	"event" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	CONSTRAINT "alert_deliveries_channel_check" CHECK ("channel" in ('webhook', 'email'))
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_rule_id_alert_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_deliveries_event_idx" ON "alert_deliveries" USING btree ("rule_id","channel","event_key");--> statement-breakpoint
CREATE INDEX "alert_deliveries_due_idx" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE "sent_at" is null;--> statement-breakpoint
-- Three new results, checked as in 0015: the inbox in full, the log for rows sealed from now on.
ALTER TABLE "account_log_inbox" DROP CONSTRAINT "account_log_inbox_result_check";--> statement-breakpoint
ALTER TABLE "account_log_inbox" ADD CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed'));--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed')) NOT VALID;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed']::text[], "result") - 1)
$$;

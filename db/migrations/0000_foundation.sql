CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "account_log_totals" (
	"shard" smallint PRIMARY KEY NOT NULL,
	"row_count" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_log_usernames" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_log_usernames_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"username_normalized" text NOT NULL,
	"row_count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "account_log_usernames_username_normalized_unique" UNIQUE("username_normalized")
);
--> statement-breakpoint
CREATE TABLE "account_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"username" text NOT NULL,
	"username_truncated" boolean DEFAULT false NOT NULL,
	"username_normalized" text NOT NULL,
	"username_key" integer DEFAULT 0 NOT NULL,
	"user_id" integer,
	"result" text NOT NULL,
	"ip" "inet",
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "account_logs_result_check" CHECK ("account_logs"."result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'account_locked', 'account_unlocked', 'logout'))
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"username" text NOT NULL,
	"username_normalized" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text DEFAULT 'user' NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_at" timestamp with time zone,
	"session_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_username_normalized_unique" UNIQUE("username_normalized"),
	CONSTRAINT "users_role_check" CHECK ("users"."role" in ('admin', 'user')),
	CONSTRAINT "users_failed_attempts_check" CHECK ("users"."failed_attempts" >= 0),
	CONSTRAINT "users_username_length_check" CHECK (char_length("users"."username_normalized") between 1 and 64)
);
--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_username_key_account_log_usernames_id_fk" FOREIGN KEY ("username_key") REFERENCES "public"."account_log_usernames"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_log_usernames_trgm_idx" ON "account_log_usernames" USING gin ("username_normalized" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "account_logs_username_key_id_idx" ON "account_logs" USING btree ("username_key","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "account_logs_user_id_id_idx" ON "account_logs" USING btree ("user_id","id" DESC NULLS LAST);
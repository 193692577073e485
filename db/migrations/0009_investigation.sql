CREATE TABLE "account_log_hours" (
	"hour" timestamp with time zone NOT NULL,
	"result" text NOT NULL,
	"row_count" bigint NOT NULL,
	"min_id" bigint NOT NULL,
	"max_id" bigint NOT NULL,
	CONSTRAINT "account_log_hours_hour_result_pk" PRIMARY KEY("hour","result")
);
--> statement-breakpoint
CREATE TABLE "account_log_username_results" (
	"username_key" integer NOT NULL,
	"result" text NOT NULL,
	"row_count" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	CONSTRAINT "account_log_username_results_username_key_result_pk" PRIMARY KEY("username_key","result")
);
--> statement-breakpoint
CREATE TABLE "account_sign_in_places" (
	"user_id" integer NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "account_sign_in_places_user_id_kind_value_pk" PRIMARY KEY("user_id","kind","value"),
	CONSTRAINT "account_sign_in_places_kind_check" CHECK ("account_sign_in_places"."kind" in ('ip', 'country'))
);
--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_log_username_results" ADD CONSTRAINT "account_log_username_results_username_key_account_log_usernames_id_fk" FOREIGN KEY ("username_key") REFERENCES "public"."account_log_usernames"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_sign_in_places" ADD CONSTRAINT "account_sign_in_places_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_logs_username_key_result_id_idx" ON "account_logs" USING btree ("username_key","result","id");--> statement-breakpoint
CREATE INDEX "account_logs_result_id_idx" ON "account_logs" USING btree ("result","id");--> statement-breakpoint
CREATE INDEX "account_logs_ip_id_idx" ON "account_logs" USING btree ("ip","id");--> statement-breakpoint
CREATE INDEX "account_logs_new_place_idx" ON "account_logs" USING btree ("id") WHERE ("account_logs"."metadata" -> 'signals') is not null;--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("account_logs"."result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed'));
--> statement-breakpoint
LOCK TABLE "account_logs" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_logs_count_insert"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  -- Chosen once: random() in the WHERE clause would be drawn again for every row.
  target_shard smallint := floor(random() * 16)::smallint;
BEGIN
  INSERT INTO "account_log_usernames" AS u ("username_normalized", "row_count", "last_id")
  VALUES (NEW."username_normalized", 1, NEW."id")
  ON CONFLICT ("username_normalized") DO UPDATE
    SET "row_count" = u."row_count" + 1, "last_id" = greatest(u."last_id", NEW."id")
  RETURNING u."id" INTO NEW."username_key";
  UPDATE "account_log_totals" SET "row_count" = "row_count" + 1
  WHERE "shard" = target_shard;
  INSERT INTO "account_log_username_results" AS r ("username_key", "result", "row_count", "last_id")
  VALUES (NEW."username_key", NEW."result", 1, NEW."id")
  ON CONFLICT ("username_key", "result") DO UPDATE
    SET "row_count" = r."row_count" + 1, "last_id" = greatest(r."last_id", NEW."id");
  -- Hours in UTC, whatever the session's time zone.
  INSERT INTO "account_log_hours" AS h ("hour", "result", "row_count", "min_id", "max_id")
  VALUES (date_trunc('hour', NEW."occurred_at", 'UTC'), NEW."result", 1, NEW."id", NEW."id")
  ON CONFLICT ("hour", "result") DO UPDATE
    SET "row_count" = h."row_count" + 1, "min_id" = least(h."min_id", NEW."id"), "max_id" = greatest(h."max_id", NEW."id");
  RETURN NEW;
END;
$$;
--> statement-breakpoint
INSERT INTO "account_log_username_results" ("username_key", "result", "row_count", "last_id")
SELECT "username_key", "result", count(*), max("id") FROM "account_logs" GROUP BY 1, 2;--> statement-breakpoint
INSERT INTO "account_log_hours" ("hour", "result", "row_count", "min_id", "max_id")
SELECT date_trunc('hour', "occurred_at", 'UTC'), "result", count(*), min("id"), max("id") FROM "account_logs" GROUP BY 1, 2;

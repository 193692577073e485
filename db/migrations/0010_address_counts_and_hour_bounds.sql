CREATE TABLE "account_log_address_results" (
	"ip" "inet" NOT NULL,
	"result" text NOT NULL,
	"row_count" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	CONSTRAINT "account_log_address_results_ip_result_pk" PRIMARY KEY("ip","result")
);
--> statement-breakpoint
CREATE TABLE "account_log_failure_hours" (
	"hour" timestamp with time zone NOT NULL,
	"username_key" integer NOT NULL,
	"ip" "inet",
	"failures" bigint NOT NULL,
	CONSTRAINT "account_log_failure_hours_hour_username_ip_unique" UNIQUE NULLS NOT DISTINCT("hour","username_key","ip")
);
--> statement-breakpoint
CREATE TABLE "account_log_hour_ceilings" (
	"hour" timestamp with time zone PRIMARY KEY NOT NULL,
	"last_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_log_hour_floors" (
	"hour" timestamp with time zone PRIMARY KEY NOT NULL,
	"first_id" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "account_logs_ip_id_idx";--> statement-breakpoint
ALTER TABLE "account_log_usernames" ADD COLUMN "results_seen" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "account_log_failure_hours" ADD CONSTRAINT "account_log_failure_hours_username_key_account_log_usernames_id_fk" FOREIGN KEY ("username_key") REFERENCES "public"."account_log_usernames"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_logs_ip_result_id_idx" ON "account_logs" USING btree ("ip","result","id");
--> statement-breakpoint
LOCK TABLE "account_logs" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
-- A result's bit in "results_seen": its place in this list, which only grows at the end (the
-- app's ACCOUNT_LOG_RESULTS has the same order).
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed']::text[], "result") - 1)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_logs_count_insert"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  -- Chosen once: random() in the WHERE clause would be drawn again for every row.
  target_shard smallint := floor(random() * 16)::smallint;
  -- Hours in UTC, whatever the session's time zone.
  row_hour timestamptz := date_trunc('hour', NEW."occurred_at", 'UTC');
BEGIN
  INSERT INTO "account_log_usernames" AS u ("username_normalized", "row_count", "last_id", "results_seen")
  VALUES (NEW."username_normalized", 1, NEW."id", "account_log_result_bit"(NEW."result"))
  ON CONFLICT ("username_normalized") DO UPDATE
    SET "row_count" = u."row_count" + 1, "last_id" = greatest(u."last_id", NEW."id"),
      "results_seen" = u."results_seen" | "account_log_result_bit"(NEW."result")
  RETURNING u."id" INTO NEW."username_key";
  UPDATE "account_log_totals" SET "row_count" = "row_count" + 1
  WHERE "shard" = target_shard;
  INSERT INTO "account_log_username_results" AS r ("username_key", "result", "row_count", "last_id")
  VALUES (NEW."username_key", NEW."result", 1, NEW."id")
  ON CONFLICT ("username_key", "result") DO UPDATE
    SET "row_count" = r."row_count" + 1, "last_id" = greatest(r."last_id", NEW."id");
  IF NEW."ip" IS NOT NULL THEN
    INSERT INTO "account_log_address_results" AS a ("ip", "result", "row_count", "last_id")
    VALUES (NEW."ip", NEW."result", 1, NEW."id")
    ON CONFLICT ("ip", "result") DO UPDATE
      SET "row_count" = a."row_count" + 1, "last_id" = greatest(a."last_id", NEW."id");
  END IF;
  -- Failed sign-ins (the app's FAILED_SIGN_IN_RESULTS), for "Needs attention".
  IF NEW."result" IN ('login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_rate_limited') THEN
    INSERT INTO "account_log_failure_hours" AS f ("hour", "username_key", "ip", "failures")
    VALUES (row_hour, NEW."username_key", NEW."ip", 1)
    ON CONFLICT ("hour", "username_key", "ip") DO UPDATE SET "failures" = f."failures" + 1;
  END IF;
  INSERT INTO "account_log_hours" AS h ("hour", "result", "row_count", "min_id", "max_id")
  VALUES (row_hour, NEW."result", 1, NEW."id", NEW."id")
  ON CONFLICT ("hour", "result") DO UPDATE
    SET "row_count" = h."row_count" + 1, "min_id" = least(h."min_id", NEW."id"), "max_id" = greatest(h."max_id", NEW."id");
  -- IDs are drawn under the chain's lock, so this row's ID is the newest: every later hour
  -- stops being a ceiling, and this hour becomes one; it is a floor only as the newest hour yet
  -- (the newest hour is always a floor). Each max() is one index probe; a range condition on a
  -- variable could be planned as a scan of the whole table.
  IF row_hour < (SELECT max("hour") FROM "account_log_hour_ceilings") THEN
    DELETE FROM "account_log_hour_ceilings" WHERE "hour" > row_hour;
  END IF;
  INSERT INTO "account_log_hour_ceilings" AS c ("hour", "last_id") VALUES (row_hour, NEW."id")
  ON CONFLICT ("hour") DO UPDATE SET "last_id" = greatest(c."last_id", NEW."id");
  IF row_hour > coalesce((SELECT max("hour") FROM "account_log_hour_floors"), '-infinity') THEN
    INSERT INTO "account_log_hour_floors" ("hour", "first_id") VALUES (row_hour, NEW."id");
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
INSERT INTO "account_log_failure_hours" ("hour", "username_key", "ip", "failures")
SELECT date_trunc('hour', "occurred_at", 'UTC'), "username_key", "ip", count(*) FROM "account_logs"
WHERE "result" IN ('login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_rate_limited') GROUP BY 1, 2, 3;--> statement-breakpoint
INSERT INTO "account_log_address_results" ("ip", "result", "row_count", "last_id")
SELECT "ip", "result", count(*), max("id") FROM "account_logs" WHERE "ip" IS NOT NULL GROUP BY 1, 2;--> statement-breakpoint
-- Ceilings: hours whose newest ID beats every earlier hour's; floors: hours whose oldest ID is
-- below every later hour's.
INSERT INTO "account_log_hour_ceilings" ("hour", "last_id")
SELECT "hour", "last_id" FROM (
  SELECT "hour", max("max_id") AS "last_id",
    max(max("max_id")) OVER (ORDER BY "hour" ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS "earlier"
  FROM "account_log_hours" GROUP BY "hour") h
WHERE "earlier" IS NULL OR "last_id" > "earlier";--> statement-breakpoint
INSERT INTO "account_log_hour_floors" ("hour", "first_id")
SELECT "hour", "first_id" FROM (
  SELECT "hour", min("min_id") AS "first_id",
    min(min("min_id")) OVER (ORDER BY "hour" DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS "later"
  FROM "account_log_hours" GROUP BY "hour") h
WHERE "later" IS NULL OR "first_id" < "later";--> statement-breakpoint
UPDATE "account_log_usernames" u SET "results_seen" = s."bits"
FROM (SELECT "username_key", bit_or("account_log_result_bit"("result")) AS "bits" FROM "account_log_username_results" GROUP BY 1) s
WHERE u."id" = s."username_key";

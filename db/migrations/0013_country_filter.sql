CREATE TABLE "account_log_country_hours" (
	"country" text NOT NULL,
	"result" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"row_count" bigint NOT NULL,
	CONSTRAINT "account_log_country_hours_country_hour_result_pk" PRIMARY KEY("country","hour","result")
);
--> statement-breakpoint
CREATE TABLE "account_log_country_results" (
	"country" text NOT NULL,
	"result" text NOT NULL,
	"row_count" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	CONSTRAINT "account_log_country_results_country_result_pk" PRIMARY KEY("country","result")
);
--> statement-breakpoint
CREATE INDEX "account_logs_country_result_id_idx" ON "account_logs" USING btree (nullif("metadata"->'location'->>'country', ''),"result","id");--> statement-breakpoint
-- Writes wait from here to the end of the migration, so no row is counted twice or missed
-- between the counters' backfill and the trigger that keeps them.
LOCK TABLE "account_logs" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
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
  -- The country stored with the row (the expression the country index reads); '' for none.
  INSERT INTO "account_log_country_results" AS cr ("country", "result", "row_count", "last_id")
  VALUES (coalesce(nullif(NEW."metadata"->'location'->>'country', ''), ''), NEW."result", 1, NEW."id")
  ON CONFLICT ("country", "result") DO UPDATE
    SET "row_count" = cr."row_count" + 1, "last_id" = greatest(cr."last_id", NEW."id");
  IF nullif(NEW."metadata"->'location'->>'country', '') IS NOT NULL THEN
    INSERT INTO "account_log_country_hours" AS c ("country", "result", "hour", "row_count")
    VALUES (nullif(NEW."metadata"->'location'->>'country', ''), NEW."result", row_hour, 1)
    ON CONFLICT ("country", "result", "hour") DO UPDATE SET "row_count" = c."row_count" + 1;
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
INSERT INTO "account_log_country_hours" ("country", "result", "hour", "row_count")
SELECT nullif("metadata"->'location'->>'country', ''), "result", date_trunc('hour', "occurred_at", 'UTC'), count(*) FROM "account_logs"
WHERE nullif("metadata"->'location'->>'country', '') IS NOT NULL GROUP BY 1, 2, 3;--> statement-breakpoint
INSERT INTO "account_log_country_results" ("country", "result", "row_count", "last_id")
SELECT coalesce(nullif("metadata"->'location'->>'country', ''), ''), "result", count(*), max("id") FROM "account_logs" GROUP BY 1, 2;

-- Retention (docs/audit.md, "Retention"): months of sealing leave whole, below a signed boundary.
CREATE TABLE "account_log_boundaries" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"head_hash" bytea NOT NULL,
	"first_seq" bigint NOT NULL,
	"rows_removed" bigint NOT NULL,
	"months" text[] NOT NULL,
	"archives" text[] NOT NULL,
	"retained_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" bytea NOT NULL
);
--> statement-breakpoint
-- Removes every month of sealing before "before" (a month start, UTC) as whole partitions, with
-- the counters' share of their rows, in one transaction: the counts equal the rows before and
-- after. The caller signed the boundary (the last seq that leaves and its hash) with the key the
-- database never holds; this function checks that the boundary is exactly where those months end,
-- that no unsealed row is older than "before", and that no active stream still needs the rows
-- (unless named in "forced_streams"). Only the owner may detach partitions: SECURITY DEFINER.
CREATE FUNCTION "account_log_retain"("before" timestamptz, "boundary_seq" bigint, "signed_head" bytea, "signed_time" timestamptz,
  "signer" text, "signed" bytea, "archive_names" text[], "forced_streams" integer[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET "TimeZone" = 'UTC' AS $$
DECLARE
  state "account_log_seal_state" := (SELECT s FROM "account_log_seal_state" s);
  last_seq bigint;
  first_gone bigint;
  next_seq bigint;
  gone bigint;
  actual bytea;
  behind text;
  month_names text[];
  partition_name text;
  touched bigint;
BEGIN
  IF "before" <> date_trunc('month', "before", 'UTC') THEN
    RAISE EXCEPTION 'retention cuts at a month start, not %', "before" USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF "before" > date_trunc('month', state."sealed_at", 'UTC') THEN
    RAISE EXCEPTION 'the month before % is still being sealed into', "before" USING ERRCODE = 'object_in_use';
  END IF;
  IF EXISTS (SELECT FROM "account_log_inbox" WHERE "occurred_at" < "before") THEN
    RAISE EXCEPTION 'rows written before % are not sealed yet', "before" USING ERRCODE = 'object_in_use';
  END IF;
  SELECT max("seq"), min("seq"), count(*) INTO last_seq, first_gone, gone FROM "account_logs" WHERE "sealed_at" < "before";
  IF last_seq IS NULL THEN
    RAISE EXCEPTION 'no sealed row is older than %', "before" USING ERRCODE = 'no_data_found';
  END IF;
  IF last_seq <> "boundary_seq" THEN
    RAISE EXCEPTION 'the months before % end at seq %, not %', "before", last_seq, "boundary_seq" USING ERRCODE = 'check_violation';
  END IF;
  actual := (SELECT "hash" FROM "account_logs" WHERE "seq" = last_seq AND "sealed_at" < "before");
  IF actual <> "signed_head" THEN
    RAISE EXCEPTION 'the row at seq % has another hash than the signed boundary', last_seq USING ERRCODE = 'check_violation';
  END IF;
  -- Months and seq line up (sealing times grow with seq): nothing above the boundary leaves, and
  -- nothing below it stays.
  next_seq := (SELECT min("seq") FROM "account_logs" WHERE "sealed_at" >= "before");
  IF (next_seq IS NOT NULL AND next_seq <> last_seq + 1) OR (next_seq IS NULL AND state."seq" <> last_seq)
     OR last_seq - first_gone + 1 <> gone THEN
    RAISE EXCEPTION 'the months before % are not one run of seq ending at %', "before", last_seq USING ERRCODE = 'check_violation';
  END IF;
  SELECT string_agg(format('%s (%s)', s."name", s."id"), ', ') INTO behind FROM "log_streams" s
  WHERE s."enabled" AND s."cursor_seq" < last_seq AND NOT (s."id" = ANY (coalesce("forced_streams", '{}')));
  IF behind IS NOT NULL THEN
    RAISE EXCEPTION 'streams have not delivered these rows yet: %', behind USING ERRCODE = 'object_in_use';
  END IF;

  -- The counters' share of the rows that leave, from one read of them at the finest grain, in one
  -- statement (each part updates its own table); emptied counter rows are removed after.
  WITH "gone_rows" AS MATERIALIZED (
    SELECT "username_key", "result", "ip", date_trunc('hour', "occurred_at", 'UTC') AS "hour",
      "metadata"->'location'->>'country' AS "country", count(*) AS "n"
    FROM "account_logs" WHERE "sealed_at" < "before" GROUP BY 1, 2, 3, 4, 5
  ), "totals" AS (
    UPDATE "account_log_totals" SET "row_count" = "row_count" - gone WHERE "shard" = 0 RETURNING 1
  ), "usernames" AS (
    UPDATE "account_log_usernames" u SET "row_count" = u."row_count" - d."n"
    FROM (SELECT "username_key", sum("n") AS "n" FROM "gone_rows" GROUP BY 1) d WHERE u."id" = d."username_key" RETURNING 1
  ), "username_results" AS (
    UPDATE "account_log_username_results" c SET "row_count" = c."row_count" - d."n"
    FROM (SELECT "username_key", "result", sum("n") AS "n" FROM "gone_rows" GROUP BY 1, 2) d
    WHERE c."username_key" = d."username_key" AND c."result" = d."result" RETURNING 1
  ), "address_results" AS (
    UPDATE "account_log_address_results" c SET "row_count" = c."row_count" - d."n"
    FROM (SELECT "ip", "result", sum("n") AS "n" FROM "gone_rows" WHERE "ip" IS NOT NULL GROUP BY 1, 2) d
    WHERE c."ip" = d."ip" AND c."result" = d."result" RETURNING 1
  ), "hours" AS (
    UPDATE "account_log_hours" c SET "row_count" = c."row_count" - d."n"
    FROM (SELECT "hour", "result", sum("n") AS "n" FROM "gone_rows" GROUP BY 1, 2) d
    WHERE c."hour" = d."hour" AND c."result" = d."result" RETURNING 1
  ), "country_hours" AS (
    UPDATE "account_log_country_hours" c SET "row_count" = c."row_count" - d."n"
    FROM (SELECT "country", "result", "hour", sum("n") AS "n" FROM "gone_rows" WHERE "country" IS NOT NULL GROUP BY 1, 2, 3) d
    WHERE c."country" = d."country" AND c."result" = d."result" AND c."hour" = d."hour" RETURNING 1
  ), "country_results" AS (
    UPDATE "account_log_country_results" c SET "row_count" = c."row_count" - d."n"
    FROM (SELECT coalesce("country", '') AS "country", "result", sum("n") AS "n" FROM "gone_rows" GROUP BY 1, 2) d
    WHERE c."country" = d."country" AND c."result" = d."result" RETURNING 1
  ), "failure_hours" AS (
    UPDATE "account_log_failure_hours" c SET "failures" = c."failures" - d."n"
    FROM (SELECT "hour", "username_key", "ip", sum("n") AS "n" FROM "gone_rows" WHERE "result" IN ('login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_rate_limited') GROUP BY 1, 2, 3) d
    WHERE c."hour" = d."hour" AND c."username_key" = d."username_key" AND c."ip" IS NOT DISTINCT FROM d."ip" RETURNING 1
  )
  SELECT (SELECT count(*) FROM "totals") + (SELECT count(*) FROM "usernames") + (SELECT count(*) FROM "username_results")
    + (SELECT count(*) FROM "address_results") + (SELECT count(*) FROM "hours") + (SELECT count(*) FROM "country_hours")
    + (SELECT count(*) FROM "country_results") + (SELECT count(*) FROM "failure_hours") INTO touched;
  DELETE FROM "account_log_username_results" WHERE "row_count" <= 0;
  DELETE FROM "account_log_address_results" WHERE "row_count" <= 0;
  DELETE FROM "account_log_hours" WHERE "row_count" <= 0;
  DELETE FROM "account_log_country_hours" WHERE "row_count" <= 0;
  DELETE FROM "account_log_country_results" WHERE "row_count" <= 0;
  DELETE FROM "account_log_failure_hours" WHERE "failures" <= 0;
  SELECT array_agg(to_char("month", 'YYYY-MM') ORDER BY "month") INTO month_names FROM "account_log_months" WHERE "month" < "before";
  DELETE FROM "account_log_months" WHERE "month" < "before";

  -- The partitions go whole: detached (the log locked for a moment, not waited on for long), dropped.
  SET LOCAL lock_timeout = '5s';
  FOR partition_name IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.account_logs'::regclass
      AND (c.relname LIKE 'account_logs\_before\_%' OR (c.relname ~ '^account_logs_[0-9]{4}_[0-9]{2}$'
        AND to_timestamp(substr(c.relname, 14), 'YYYY_MM') AT TIME ZONE 'UTC' < "before"))
      AND NOT EXISTS (SELECT FROM "account_logs" l WHERE l.tableoid = c.oid AND l."sealed_at" >= "before")
  LOOP
    EXECUTE format('ALTER TABLE public."account_logs" DETACH PARTITION public.%I', partition_name);
    EXECUTE format('DROP TABLE public.%I', partition_name);
  END LOOP;
  IF EXISTS (SELECT FROM "account_logs" WHERE "sealed_at" < "before") THEN
    RAISE EXCEPTION 'rows before % remain in a partition that reaches past it', "before" USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO "account_log_boundaries" ("seq", "head_hash", "first_seq", "rows_removed", "months", "archives", "retained_at", "key_id", "signature")
  VALUES (last_seq, actual, first_gone, gone, coalesce(month_names, '{}'), coalesce("archive_names", '{}'), "signed_time", "signer", "signed");
  RETURN gone;
END;
$$;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION "account_log_retain"(timestamptz, bigint, bytea, timestamptz, text, bytea, text[], integer[]) FROM PUBLIC;--> statement-breakpoint
-- One new result, checked as in 0015: the inbox in full, the log for rows sealed from now on.
ALTER TABLE "account_log_inbox" DROP CONSTRAINT "account_log_inbox_result_check";--> statement-breakpoint
ALTER TABLE "account_log_inbox" ADD CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained'));--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained')) NOT VALID;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained']::text[], "result") - 1)
$$;

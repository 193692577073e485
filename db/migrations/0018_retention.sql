-- Retention (docs/audit.md, "Retention"): months of sealing leave whole, below a signed boundary.
CREATE TABLE "account_log_boundaries" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"head_hash" bytea NOT NULL,
	"first_seq" bigint NOT NULL,
	"rows_removed" bigint NOT NULL,
	"spans" jsonb NOT NULL,
	"archives" text[] NOT NULL,
	"retained_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" bytea NOT NULL
);
--> statement-breakpoint
-- Boundaries are evidence: never changed or removed, by anyone (as the log's rows).
CREATE FUNCTION "account_log_boundaries_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'retention boundaries are never changed or removed' USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_log_boundaries_append_only" BEFORE UPDATE OR DELETE ON "account_log_boundaries"
FOR EACH ROW EXECUTE FUNCTION "account_log_boundaries_refuse_change"();--> statement-breakpoint
CREATE TRIGGER "account_log_boundaries_no_truncate" BEFORE TRUNCATE ON "account_log_boundaries"
FOR EACH STATEMENT EXECUTE FUNCTION "account_log_boundaries_refuse_change"();--> statement-breakpoint
-- The youngest cut a role other than the owner (the app's) may make, in months: the owner decides
-- how much history the app may remove on its own (12 by default: PCI DSS 10.5.1's year).
CREATE TABLE "account_log_retention_floor" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"months" integer NOT NULL,
	CONSTRAINT "account_log_retention_floor_single_row" CHECK ("singleton"),
	CONSTRAINT "account_log_retention_floor_months_check" CHECK ("months" between 0 and 1200)
);
--> statement-breakpoint
INSERT INTO "account_log_retention_floor" ("singleton", "months") VALUES (true, 12);--> statement-breakpoint
-- Removes every month of sealing before "before" (a month start, UTC) as whole partitions, in the
-- caller's transaction: the counters' share of their rows, the partitions, the signed boundary and
-- the `logs_retained` row, together, so the counts equal the rows before and after and no removal
-- goes unlogged. Sealing waits meanwhile (the seal state is held); sign-ins do not (they write the
-- inbox). The caller signed the boundary and each month's span with the key the database never
-- holds; this function checks that they are exactly the database's, that the months follow the
-- previous boundary with no gap, that no unsealed row is older than the cut and that no active
-- stream still needs the rows (unless forced). A role other than the owner may only cut below
-- the owner's floor, and only with archives. Only the owner may detach partitions: SECURITY DEFINER.
CREATE FUNCTION "account_log_retain"("before" timestamptz, "boundary_seq" bigint, "signed_head" bytea, "signed_time" timestamptz,
  "signer" text, "signed" bytea, "month_spans" jsonb, "archive_names" text[], "forced_streams" integer[], "entry" jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET "TimeZone" = 'UTC' AS $$
DECLARE
  state "account_log_seal_state";
  previous "account_log_boundaries";
  privileged boolean;
  floor_months integer;
  last_seq bigint;
  first_gone bigint;
  gone bigint;
  lowest_id bigint;
  highest_id bigint;
  actual bytea;
  behind text;
  month_names text[];
  partition_name text;
  touched bigint;
  tries integer;
  span jsonb;
  span_seq bigint;
  saved_lock_timeout text;
BEGIN
  -- One retention at a time; then the seal state, which waits for the batch being sealed and makes
  -- later sealers skip until this commits (it is not the marker `account_log_end_stuck_sealer` ends).
  PERFORM pg_advisory_xact_lock(726531004);
  SELECT * INTO STRICT state FROM "account_log_seal_state" FOR UPDATE;
  IF "before" <> date_trunc('month', "before", 'UTC') THEN
    RAISE EXCEPTION 'retention cuts at a month start, not %', "before" USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF "before" > date_trunc('month', state."sealed_at", 'UTC') THEN
    RAISE EXCEPTION 'the month before % is still being sealed into', "before" USING ERRCODE = 'object_in_use';
  END IF;
  privileged := session_user = (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = 'public.account_logs'::regclass)
    OR coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user), false);
  IF NOT privileged THEN
    floor_months := (SELECT f."months" FROM "account_log_retention_floor" f);
    IF "before" > date_trunc('month', now() - make_interval(months => floor_months), 'UTC') THEN
      RAISE EXCEPTION 'the owner lets this role remove months older than % months only (account_log_retention_floor)', floor_months USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(cardinality("archive_names"), 0) <> jsonb_array_length("month_spans") THEN
      RAISE EXCEPTION 'this role removes months only with their archives, one a month' USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  -- A signature is good for this run only: made minutes ago, after the last retention. One left
  -- over from a run that did not commit is not a licence to remove the months later.
  SELECT * INTO previous FROM "account_log_boundaries" ORDER BY "seq" DESC LIMIT 1;
  IF "signed_time" NOT BETWEEN clock_timestamp() - interval '30 minutes' AND clock_timestamp() + interval '1 minute'
     OR "signed_time" <= coalesce(previous."retained_at", '-infinity') THEN
    RAISE EXCEPTION 'the boundary was signed at %, not for this run', "signed_time" USING ERRCODE = 'check_violation';
  END IF;
  IF coalesce("entry"->>'username', '') = '' OR coalesce("entry"->>'username_normalized', '') = '' THEN
    RAISE EXCEPTION 'the retention''s log row needs a username' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT FROM "account_log_inbox" WHERE "occurred_at" < "before") THEN
    RAISE EXCEPTION 'rows written before % are not sealed yet', "before" USING ERRCODE = 'object_in_use';
  END IF;
  SELECT max("seq"), min("seq"), count(*), min("id"), max("id") INTO last_seq, first_gone, gone, lowest_id, highest_id
  FROM "account_logs" WHERE "sealed_at" < "before";
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
  -- The months follow the previous boundary (or the first row ever) with no gap: rows removed
  -- behind the app's back are never signed for.
  IF first_gone <> coalesce(previous."seq", 0) + 1
     OR (SELECT "prev_hash" FROM "account_logs" WHERE "seq" = first_gone AND "sealed_at" < "before")
        IS DISTINCT FROM coalesce(previous."head_hash", decode(repeat('00', 32), 'hex')) THEN
    RAISE EXCEPTION 'the log starts at seq %, not where the last boundary left it (seq %): rows are missing', first_gone, coalesce(previous."seq", 0) + 1
      USING ERRCODE = 'check_violation';
  END IF;
  -- Months and seq line up (sealing times grow with seq): nothing above the boundary leaves, and
  -- nothing below it stays.
  IF last_seq - first_gone + 1 <> gone
     OR coalesce((SELECT min("seq") FROM "account_logs" WHERE "sealed_at" >= "before"), state."seq" + 1) <> last_seq + 1 THEN
    RAISE EXCEPTION 'the months before % are not one run of seq ending at %', "before", last_seq USING ERRCODE = 'check_violation';
  END IF;
  -- Each signed month span is the database's: its positions, rows and the hashes at its ends.
  span_seq := first_gone;
  FOR span IN SELECT value FROM jsonb_array_elements("month_spans") ORDER BY (value->>'first_seq')::bigint LOOP
    IF (span->>'first_seq')::bigint <> span_seq OR NOT EXISTS (
      SELECT FROM "account_log_months" m
      WHERE to_char(m."month", 'YYYY-MM') = span->>'month' AND m."min_seq" = (span->>'first_seq')::bigint
        AND m."max_seq" = (span->>'last_seq')::bigint AND m."row_count" = (span->>'rows')::bigint)
      OR encode((SELECT "prev_hash" FROM "account_logs" WHERE "seq" = span_seq AND "sealed_at" < "before"), 'hex') IS DISTINCT FROM span->>'prev_hash'
      OR encode((SELECT "hash" FROM "account_logs" WHERE "seq" = (span->>'last_seq')::bigint AND "sealed_at" < "before"), 'hex') IS DISTINCT FROM span->>'head_hash' THEN
      RAISE EXCEPTION 'the signed span of % is not the database''s', span->>'month' USING ERRCODE = 'check_violation';
    END IF;
    span_seq := (span->>'last_seq')::bigint + 1;
  END LOOP;
  IF span_seq <> last_seq + 1 THEN
    RAISE EXCEPTION 'the signed months do not cover seq % to %', first_gone, last_seq USING ERRCODE = 'check_violation';
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

  -- The newest row of a name, result, address or country may be leaving: it is looked up again
  -- among the rows that stay (before the detach, so the log is locked as briefly as can be).
  UPDATE "account_log_usernames" u SET "last_id" = CASE WHEN u."row_count" <= 0 THEN NULL ELSE
      (SELECT max(l."id") FROM "account_logs" l WHERE l."username_key" = u."id" AND l."sealed_at" >= "before") END
  WHERE u."last_id" BETWEEN lowest_id AND highest_id
    AND EXISTS (SELECT FROM "account_logs" g WHERE g."id" = u."last_id" AND g."sealed_at" < "before");
  UPDATE "account_log_username_results" r SET "last_id" = (SELECT max(l."id") FROM "account_logs" l
    WHERE l."username_key" = r."username_key" AND l."result" = r."result" AND l."sealed_at" >= "before")
  WHERE r."last_id" BETWEEN lowest_id AND highest_id
    AND EXISTS (SELECT FROM "account_logs" g WHERE g."id" = r."last_id" AND g."sealed_at" < "before");
  UPDATE "account_log_address_results" r SET "last_id" = (SELECT max(l."id") FROM "account_logs" l
    WHERE l."ip" = r."ip" AND l."result" = r."result" AND l."sealed_at" >= "before")
  WHERE r."last_id" BETWEEN lowest_id AND highest_id
    AND EXISTS (SELECT FROM "account_logs" g WHERE g."id" = r."last_id" AND g."sealed_at" < "before");
  -- Rows without a country are counted under ''; the index holds them as NULL.
  UPDATE "account_log_country_results" r SET "last_id" = (SELECT max(l."id") FROM "account_logs" l
    WHERE nullif(l."metadata"->'location'->>'country', '') = r."country" AND l."result" = r."result" AND l."sealed_at" >= "before")
  WHERE r."country" <> '' AND r."last_id" BETWEEN lowest_id AND highest_id
    AND EXISTS (SELECT FROM "account_logs" g WHERE g."id" = r."last_id" AND g."sealed_at" < "before");
  UPDATE "account_log_country_results" r SET "last_id" = (SELECT max(l."id") FROM "account_logs" l
    WHERE nullif(l."metadata"->'location'->>'country', '') IS NULL AND l."result" = r."result" AND l."sealed_at" >= "before")
  WHERE r."country" = '' AND r."last_id" BETWEEN lowest_id AND highest_id
    AND EXISTS (SELECT FROM "account_logs" g WHERE g."id" = r."last_id" AND g."sealed_at" < "before");

  INSERT INTO "account_log_boundaries" ("seq", "head_hash", "first_seq", "rows_removed", "spans", "archives", "retained_at", "key_id", "signature")
  VALUES (last_seq, actual, first_gone, gone, "month_spans", coalesce("archive_names", '{}'), "signed_time", "signer", "signed");
  -- The log row, here rather than left to the caller: no removal without one (and no other role may
  -- write one: account_log_inbox's trigger). What was removed, the archives, the streams forced
  -- past and the database role are stated by this function; the caller adds who asked and the
  -- archives' digests.
  INSERT INTO "account_log_inbox" ("username", "username_truncated", "username_normalized", "user_id", "result", "ip", "metadata")
  VALUES ("entry"->>'username', coalesce(("entry"->>'username_truncated')::boolean, false), "entry"->>'username_normalized',
    ("entry"->>'user_id')::integer, 'logs_retained', ("entry"->>'ip')::inet,
    coalesce("entry"->'metadata', '{}'::jsonb) || jsonb_build_object('retention',
      coalesce("entry"->'metadata'->'retention', '{}'::jsonb) || jsonb_build_object(
        'months', to_jsonb(coalesce(month_names, '{}')), 'rows', gone, 'boundarySeq', last_seq, 'firstSeq', first_gone,
        'archiveNames', to_jsonb(coalesce("archive_names", '{}')), 'keyId', "signer", 'databaseRole', session_user::text,
        'forcedStreams', coalesce((SELECT jsonb_agg(format('%s (%s), sent through seq %s', s."name", s."id", s."cursor_seq") ORDER BY s."id")
          FROM "log_streams" s WHERE s."id" = ANY (coalesce("forced_streams", '{}')) AND s."cursor_seq" < last_seq), '[]'::jsonb))));

  -- Last, the partitions go whole, found by name (a month's partition holds that month of sealing,
  -- the first one everything before its month). Detaching and dropping one locks the log (and,
  -- for the foreign keys' triggers, the users table) until the commit that follows at once; each
  -- waits for those locks 100 ms at a time, so readers queued behind it wait no longer than that,
  -- up to 100 tries.
  saved_lock_timeout := current_setting('lock_timeout');
  FOR partition_name IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.account_logs'::regclass
      AND ((c.relname ~ '^account_logs_before_[0-9]{4}_[0-9]{2}$' AND to_timestamp(substr(c.relname, 21), 'YYYY_MM') AT TIME ZONE 'UTC' <= "before")
        OR (c.relname ~ '^account_logs_[0-9]{4}_[0-9]{2}$' AND to_timestamp(substr(c.relname, 14), 'YYYY_MM') AT TIME ZONE 'UTC' < "before"))
    ORDER BY c.relname
  LOOP
    tries := 0;
    LOOP
      BEGIN
        PERFORM set_config('lock_timeout', '100ms', true);
        EXECUTE format('ALTER TABLE public."account_logs" DETACH PARTITION public.%I', partition_name);
        EXECUTE format('DROP TABLE public.%I', partition_name);
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        tries := tries + 1;
        IF tries >= 100 THEN
          RAISE EXCEPTION 'the log stayed busy: % could not be detached', partition_name USING ERRCODE = 'lock_not_available';
        END IF;
        PERFORM pg_sleep(0.05);
      END;
    END LOOP;
  END LOOP;
  PERFORM set_config('lock_timeout', saved_lock_timeout, true);
  IF EXISTS (SELECT FROM "account_logs" WHERE "sealed_at" < "before") THEN
    RAISE EXCEPTION 'rows before % remain in a partition that reaches past it', "before" USING ERRCODE = 'check_violation';
  END IF;
  RETURN gone;
END;
$$;
--> statement-breakpoint
-- Only retention writes logs_retained (through the owner's function): a role that may insert log
-- rows cannot forge the row that verify requires beside each boundary. The WHEN clause keeps every
-- other insert free of the check.
CREATE FUNCTION "account_log_inbox_refuse_retained"() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF current_user <> (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = 'public.account_log_inbox'::regclass)
     AND NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false) THEN
    RAISE EXCEPTION 'logs_retained rows are written by retention only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_log_inbox_retained_by_retention_only" BEFORE INSERT ON "account_log_inbox"
FOR EACH ROW WHEN (NEW."result" = 'logs_retained') EXECUTE FUNCTION "account_log_inbox_refuse_retained"();--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION "account_log_retain"(timestamptz, bigint, bytea, timestamptz, text, bytea, jsonb, text[], integer[], jsonb) FROM PUBLIC;--> statement-breakpoint
-- One new result, checked as in 0015: the inbox in full, the log for rows sealed from now on.
ALTER TABLE "account_log_inbox" DROP CONSTRAINT "account_log_inbox_result_check";--> statement-breakpoint
ALTER TABLE "account_log_inbox" ADD CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained'));--> statement-breakpoint
ALTER TABLE "account_logs" DROP CONSTRAINT "account_logs_result_check";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained')) NOT VALID;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_log_result_bit"("result" text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 << (array_position(ARRAY['login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked', 'api_token_created', 'api_token_revoked', 'api_token_refused', 'stream_created', 'stream_changed', 'stream_removed', 'stream_replayed', 'alert_rule_created', 'alert_rule_changed', 'alert_rule_removed', 'logs_retained']::text[], "result") - 1)
$$;

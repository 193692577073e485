-- The sealed ledger (docs/audit.md, "Sealing"). A sign-in writes its row into the inbox in its own
-- transaction and holds nothing that other writers wait on; the sealer, one at a time on the
-- whole database, moves committed inbox rows into the log in batches, numbers them with a gapless
-- `seq`, chains them and keeps the counters. The log is partitioned by the month rows were sealed
-- in, so a month is a range of `seq` and leaves whole (docs/design/ledger.md).
--
-- Existing rows are copied once, in ID order (the order they were chained in), with their hashes:
-- today's chain is the prefix of the sealed one. Writes wait from here to the end.
LOCK TABLE "account_logs" IN ACCESS EXCLUSIVE MODE;--> statement-breakpoint
ALTER TABLE "account_logs" RENAME TO "account_logs_chained";--> statement-breakpoint
ALTER TABLE "account_logs_chained" RENAME CONSTRAINT "account_logs_pkey" TO "account_logs_chained_pkey";--> statement-breakpoint
ALTER TABLE "account_logs_chained" DROP CONSTRAINT "account_logs_prev_hash_unique";--> statement-breakpoint
DROP INDEX "account_logs_country_result_id_idx", "account_logs_ip_failures_idx", "account_logs_ip_result_id_at_idx",
  "account_logs_new_place_idx", "account_logs_result_id_idx", "account_logs_user_failures_idx", "account_logs_user_id_id_idx",
  "account_logs_username_key_id_idx", "account_logs_username_key_result_id_at_idx";--> statement-breakpoint
DROP FUNCTION "account_log_canonical"("account_logs_chained");--> statement-breakpoint
DROP TRIGGER "account_logs_chain_lock" ON "account_logs_chained";--> statement-breakpoint
DROP TRIGGER "account_logs_hash_chain" ON "account_logs_chained";--> statement-breakpoint
DROP TRIGGER "account_logs_count_insert" ON "account_logs_chained";--> statement-breakpoint
DROP FUNCTION "account_logs_chain_lock"(), "account_logs_hash_chain"(), "account_logs_count_insert"();--> statement-breakpoint
-- Version 1 of the canonical encoding, unchanged (the row's fields, not its place: `seq` and the
-- seal time are bound by the chain's order), now over the fields rather than a row type, so the
-- inbox's rows are hashed as the log's.
CREATE FUNCTION "account_log_canonical"("id" bigint, "occurred_at" timestamptz, "username" text, "username_truncated" boolean,
  "username_normalized" text, "user_id" integer, "result" text, "ip" inet, "metadata" jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_array(
    1, "id", to_char("occurred_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    "username", "username_truncated", "username_normalized", "user_id", "result", host("ip"), "metadata")::text
$$;--> statement-breakpoint
CREATE TABLE "account_log_inbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_log_inbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"username" text NOT NULL,
	"username_truncated" boolean DEFAULT false NOT NULL,
	"username_normalized" text NOT NULL,
	"user_id" integer REFERENCES "users"("id"),
	"result" text NOT NULL,
	"ip" "inet",
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	-- What the sealer needs of every row, checked when it is written: a row the log's indexes or
	-- counters would refuse could otherwise stop sealing for every row after it.
	CONSTRAINT "account_log_inbox_size_check" CHECK (char_length("username") <= 256 and char_length("username_normalized") <= 1024
		and pg_column_size("metadata") <= 65536
		and coalesce(octet_length("metadata"->'location'->>'country'), 0) <= 16),
	CONSTRAINT "account_log_inbox_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked'))
);--> statement-breakpoint
-- What sign-in reads before a row is sealed: an address's recent failures, a name's failures.
CREATE INDEX "account_log_inbox_ip_idx" ON "account_log_inbox" USING btree ("ip");--> statement-breakpoint
CREATE INDEX "account_log_inbox_username_idx" ON "account_log_inbox" USING btree ("username_normalized");--> statement-breakpoint
-- IDs continue from the log's.
SELECT setval('account_log_inbox_id_seq', coalesce((SELECT max("id") FROM "account_logs_chained"), 0) + 1, false);--> statement-breakpoint
CREATE TABLE "account_logs" (
	"id" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"username" text NOT NULL,
	"username_truncated" boolean NOT NULL,
	"username_normalized" text NOT NULL,
	"username_key" integer NOT NULL REFERENCES "account_log_usernames"("id"),
	"user_id" integer REFERENCES "users"("id"),
	"result" text NOT NULL,
	"ip" "inet",
	"metadata" jsonb NOT NULL,
	"seq" bigint NOT NULL,
	"sealed_at" timestamp with time zone NOT NULL,
	"prev_hash" "bytea" NOT NULL,
	"hash" "bytea" NOT NULL,
	-- A partitioned table's unique keys include its partition key; `id` and `seq` stay unique
	-- because one sealer at a time assigns them, `prev_hash` because it takes the head it holds.
	CONSTRAINT "account_logs_pkey" PRIMARY KEY ("id", "sealed_at"),
	CONSTRAINT "account_logs_seq_unique" UNIQUE ("seq", "sealed_at"),
	CONSTRAINT "account_logs_prev_hash_unique" UNIQUE ("prev_hash", "sealed_at"),
	CONSTRAINT "account_logs_hash_length_check" CHECK (octet_length("hash") = 32 and octet_length("prev_hash") = 32),
	CONSTRAINT "account_logs_seq_check" CHECK ("seq" > 0),
	CONSTRAINT "account_logs_result_check" CHECK ("result" in ('login_successful', 'login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_invalid_request', 'login_failed_rate_limited', 'account_locked', 'account_unlocked', 'logout', 'logs_exported', 'access_denied', 'user_created', 'password_reset', 'role_changed', 'session_revoked'))
) PARTITION BY RANGE ("sealed_at");--> statement-breakpoint
-- The sealer's state: one row, locked while a batch is sealed. The app's role may read it but not
-- lock it (FOR UPDATE needs UPDATE), so only the owner's functions can seal.
CREATE TABLE "account_log_seal_state" (
	"singleton" boolean PRIMARY KEY DEFAULT true CHECK ("singleton"),
	"seq" bigint NOT NULL,
	"head_hash" "bytea" NOT NULL,
	"sealed_at" timestamp with time zone NOT NULL,
	-- Partitions exist for every month before this one.
	"partitions_until" timestamp with time zone NOT NULL,
	-- This log's identity, in every signed checkpoint: a checkpoint of another log never counts.
	"log_id" uuid DEFAULT gen_random_uuid() NOT NULL
);--> statement-breakpoint
-- Each month's sealed rows by ID and position: which partitions a span of IDs can be in (the
-- page's time filters are spans of IDs, the partitions months of sealing), and what leaves with a
-- month. Kept by the sealer.
CREATE TABLE "account_log_months" (
	"month" timestamp with time zone PRIMARY KEY NOT NULL,
	"min_id" bigint NOT NULL,
	"max_id" bigint NOT NULL,
	"min_seq" bigint NOT NULL,
	"max_seq" bigint NOT NULL,
	"row_count" bigint NOT NULL
);--> statement-breakpoint
INSERT INTO "account_log_seal_state" ("seq", "head_hash", "sealed_at", "partitions_until")
VALUES (0, decode(repeat('00', 32), 'hex'), '-infinity', '-infinity');--> statement-breakpoint
-- Monthly partitions (UTC) up to three months after the given time, each refusing TRUNCATE (a
-- partition's TRUNCATE does not fire the parent's trigger). The first covers everything before.
-- A partition is made as a table of its own and then attached: attaching locks the log only
-- against other schema changes (SHARE UPDATE EXCLUSIVE), where CREATE TABLE … PARTITION OF would
-- lock out every reader and writer while it waits.
CREATE FUNCTION "account_log_add_partitions"("through" timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET "TimeZone" = 'UTC' SET "DateStyle" = 'ISO, YMD' AS $$
DECLARE
  until timestamptz := (SELECT "partitions_until" FROM "account_log_seal_state");
  target timestamptz := least(date_trunc('month', "through", 'UTC') + interval '4 months', date_trunc('month', now(), 'UTC') + interval '4 months');
  month_start timestamptz;
  bounds text;
  partition_name text;
BEGIN
  WHILE until < target LOOP
    IF until = '-infinity' THEN
      month_start := date_trunc('month', "through", 'UTC');
      partition_name := 'account_logs_before_' || to_char(month_start, 'YYYY_MM');
      bounds := format('FROM (MINVALUE) TO (%L)', month_start);
      until := month_start;
    ELSE
      month_start := until;
      until := month_start + interval '1 month';
      partition_name := 'account_logs_' || to_char(month_start, 'YYYY_MM');
      bounds := format('FROM (%L) TO (%L)', month_start, until);
    END IF;
    EXECUTE format('CREATE TABLE public.%I (LIKE public."account_logs" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition_name);
    EXECUTE format('ALTER TABLE public."account_logs" ATTACH PARTITION public.%I FOR VALUES %s', partition_name, bounds);
    EXECUTE format('CREATE TRIGGER "account_logs_no_truncate" BEFORE TRUNCATE ON public.%I FOR EACH STATEMENT EXECUTE FUNCTION "account_logs_refuse_change"()', partition_name);
  END LOOP;
  UPDATE "account_log_seal_state" SET "partitions_until" = until;
END;
$$;--> statement-breakpoint
-- Rows already chained: sealed in ID order, each at the latest time seen so far, so seal times
-- grow with `seq` as the sealer keeps them.
SELECT "account_log_add_partitions"(least(coalesce((SELECT min("occurred_at") FROM "account_logs_chained"), now()), now()));--> statement-breakpoint
SELECT "account_log_add_partitions"(now());--> statement-breakpoint
INSERT INTO "account_logs" ("id", "occurred_at", "username", "username_truncated", "username_normalized", "username_key", "user_id",
  "result", "ip", "metadata", "seq", "sealed_at", "prev_hash", "hash")
SELECT "id", "occurred_at", "username", "username_truncated", "username_normalized", "username_key", "user_id", "result", "ip",
  "metadata", row_number() OVER (ORDER BY "id"), least(max("occurred_at") OVER (ORDER BY "id"), now()), "prev_hash", "hash"
FROM "account_logs_chained";--> statement-breakpoint
INSERT INTO "account_log_months" ("month", "min_id", "max_id", "min_seq", "max_seq", "row_count")
SELECT date_trunc('month', "sealed_at", 'UTC'), min("id"), max("id"), min("seq"), max("seq"), count(*) FROM "account_logs" GROUP BY 1;--> statement-breakpoint
UPDATE "account_log_seal_state" SET ("seq", "head_hash", "sealed_at") = (
  SELECT count(*), coalesce((SELECT "hash" FROM "account_logs_chained" ORDER BY "id" DESC LIMIT 1), decode(repeat('00', 32), 'hex')),
    coalesce(least(max("occurred_at"), now()), '-infinity')
  FROM "account_logs_chained");--> statement-breakpoint
DROP TABLE "account_logs_chained";--> statement-breakpoint
CREATE INDEX "account_logs_username_key_id_idx" ON "account_logs" USING btree ("username_key", "id");--> statement-breakpoint
CREATE INDEX "account_logs_username_key_result_id_at_idx" ON "account_logs" USING btree ("username_key", "result", "id", "occurred_at");--> statement-breakpoint
CREATE INDEX "account_logs_user_id_id_idx" ON "account_logs" USING btree ("user_id", "id");--> statement-breakpoint
CREATE INDEX "account_logs_user_failures_idx" ON "account_logs" USING btree ("user_id", "id") WHERE "result" = 'login_failed_wrong_password';--> statement-breakpoint
CREATE INDEX "account_logs_result_id_idx" ON "account_logs" USING btree ("result", "id");--> statement-breakpoint
CREATE INDEX "account_logs_ip_result_id_at_idx" ON "account_logs" USING btree ("ip", "result", "id", "occurred_at");--> statement-breakpoint
CREATE INDEX "account_logs_country_result_id_idx" ON "account_logs" USING btree (nullif("metadata"->'location'->>'country', ''), "result", "id");--> statement-breakpoint
CREATE INDEX "account_logs_new_place_idx" ON "account_logs" USING btree ("id") WHERE ("metadata" -> 'signals') is not null;--> statement-breakpoint
CREATE INDEX "account_logs_ip_failures_idx" ON "account_logs" USING btree ("ip", "occurred_at") WHERE "result" like 'login_failed%';--> statement-breakpoint
-- Rows are only ever added, by the sealer: UPDATE and DELETE refused on every partition (row
-- triggers on the parent are cloned to each), TRUNCATE on the parent and on each partition.
CREATE TRIGGER "account_logs_append_only" BEFORE UPDATE OR DELETE ON "account_logs"
FOR EACH ROW EXECUTE FUNCTION "account_logs_refuse_change"();--> statement-breakpoint
CREATE TRIGGER "account_logs_no_truncate" BEFORE TRUNCATE ON "account_logs"
FOR EACH STATEMENT EXECUTE FUNCTION "account_logs_refuse_change"();--> statement-breakpoint
-- The hour ceilings and floors hold in any arrival order now that rows are sealed in batches: a
-- row raises its hour's ceiling only above the newest ceiling at or before it, and removes the
-- later ceilings it now covers (floors the same way, downwards).
CREATE FUNCTION "account_log_raise_hour_bounds"("row_hour" timestamptz, "newest_id" bigint, "oldest_id" bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF "newest_id" > coalesce((SELECT c."last_id" FROM "account_log_hour_ceilings" c WHERE c."hour" <= "row_hour" ORDER BY c."hour" DESC LIMIT 1), 0) THEN
    DELETE FROM "account_log_hour_ceilings" c WHERE c."hour" > "row_hour"
      AND c."hour" < coalesce((SELECT min(k."hour") FROM "account_log_hour_ceilings" k WHERE k."hour" > "row_hour" AND k."last_id" > "newest_id"), 'infinity');
    INSERT INTO "account_log_hour_ceilings" AS c ("hour", "last_id") VALUES ("row_hour", "newest_id")
    ON CONFLICT ("hour") DO UPDATE SET "last_id" = excluded."last_id";
  END IF;
  IF "oldest_id" < coalesce((SELECT f."first_id" FROM "account_log_hour_floors" f WHERE f."hour" >= "row_hour" ORDER BY f."hour" LIMIT 1), 9223372036854775807) THEN
    DELETE FROM "account_log_hour_floors" f WHERE f."hour" < "row_hour"
      AND f."hour" > coalesce((SELECT max(k."hour") FROM "account_log_hour_floors" k WHERE k."hour" < "row_hour" AND k."first_id" < "oldest_id"), '-infinity');
    INSERT INTO "account_log_hour_floors" AS f ("hour", "first_id") VALUES ("row_hour", "oldest_id")
    ON CONFLICT ("hour") DO UPDATE SET "first_id" = excluded."first_id";
  END IF;
END;
$$;--> statement-breakpoint
-- A session that holds the seal state for more than 5 seconds is not sealing (a batch takes
-- milliseconds): it called the sealer and kept its transaction open, whatever its timeouts. It is
-- ended, so sealing goes on. Needs the owner to be a superuser or to have pg_signal_backend and
-- pg_read_all_stats (README); without them this does nothing and the role's timeouts are the bound.
CREATE FUNCTION "account_log_end_stuck_sealer"() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  holder integer;
BEGIN
  -- The holder marks itself with an advisory lock (a row lock names no session that others can see).
  SELECT l."pid" INTO holder FROM "pg_locks" l
  WHERE l."locktype" = 'advisory' AND l."granted" AND l."classid" = 0 AND l."objid" = 726531003 AND l."objsubid" = 1
  LIMIT 1;
  IF holder IS NOT NULL AND holder <> pg_backend_pid() AND EXISTS (
    SELECT FROM "pg_stat_activity" a WHERE a."pid" = holder AND a."xact_start" < clock_timestamp() - interval '5 seconds'
  ) THEN
    PERFORM pg_terminate_backend(holder);
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  NULL;
END;
$$;--> statement-breakpoint
-- Seals up to `batch_limit` committed inbox rows, oldest ID first: numbers and chains them from
-- the head, moves them into the log, and counts them, all in the caller's transaction. Returns
-- the rows sealed, or -1 when another sealer holds the state (it will seal them).
CREATE FUNCTION "account_log_seal"("batch_limit" integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  state "account_log_seal_state";
  r "account_log_inbox";
  seal_time timestamptz;
  waited text;
  head bytea;
  next_seq bigint;
  ids bigint[] := '{}';
  seqs bigint[] := '{}';
  prevs bytea[] := '{}';
  hashes bytea[] := '{}';
  bound_hours timestamptz[];
  bound_newest bigint[];
  bound_oldest bigint[];
BEGIN
  IF NOT EXISTS (SELECT FROM "account_log_inbox") THEN RETURN 0; END IF;
  BEGIN
    SELECT * INTO STRICT state FROM "account_log_seal_state" FOR UPDATE NOWAIT;
  EXCEPTION WHEN lock_not_available THEN
    PERFORM "account_log_end_stuck_sealer"();
    RETURN -1;
  END;
  -- Marks this session as the holder, for `account_log_end_stuck_sealer`. Never waited for: a
  -- session that takes this lock without the seal state only marks itself.
  PERFORM pg_try_advisory_xact_lock(726531003);
  -- Seal times never go back, whatever the clock does, so months stay ranges of `seq`.
  seal_time := greatest(clock_timestamp(), state."sealed_at");
  -- Next months' partitions, made two months before they are needed; if the log is busy with a
  -- schema change now, the next batch tries again. Only a partition that is missing when rows
  -- need it stops sealing (and never sign-ins: rows wait in the inbox).
  IF seal_time + interval '2 months' >= state."partitions_until" THEN
    waited := current_setting('lock_timeout');
    BEGIN
      PERFORM set_config('lock_timeout', '200ms', true);
      PERFORM "account_log_add_partitions"(seal_time);
    EXCEPTION WHEN lock_not_available THEN
      IF seal_time >= state."partitions_until" THEN RAISE; END IF;
    END;
    PERFORM set_config('lock_timeout', waited, true);
  END IF;
  head := state."head_hash";
  next_seq := state."seq";
  FOR r IN SELECT * FROM "account_log_inbox" ORDER BY "id" LIMIT greatest("batch_limit", 1) LOOP
    next_seq := next_seq + 1;
    ids := ids || r."id";
    seqs := seqs || next_seq;
    prevs := prevs || head;
    head := sha256(head || convert_to("account_log_canonical"(r."id", r."occurred_at", r."username", r."username_truncated",
      r."username_normalized", r."user_id", r."result", r."ip", r."metadata"), 'UTF8'));
    hashes := hashes || head;
  END LOOP;
  IF next_seq = state."seq" THEN RETURN 0; END IF;

  INSERT INTO "account_log_usernames" AS u ("username_normalized", "row_count", "last_id", "results_seen")
  SELECT i."username_normalized", count(*), max(i."id"), bit_or("account_log_result_bit"(i."result"))
  FROM "account_log_inbox" i WHERE i."id" = ANY (ids) GROUP BY 1
  ON CONFLICT ("username_normalized") DO UPDATE
    SET "row_count" = u."row_count" + excluded."row_count", "last_id" = greatest(u."last_id", excluded."last_id"),
      "results_seen" = u."results_seen" | excluded."results_seen";

  -- Every counter once per batch, from the rows as sealed. Failed sign-ins are the app's
  -- FAILED_SIGN_IN_RESULTS; a country is the expression the country index reads ('' for none).
  WITH sealed AS (
    INSERT INTO "account_logs" ("id", "occurred_at", "username", "username_truncated", "username_normalized", "username_key",
      "user_id", "result", "ip", "metadata", "seq", "sealed_at", "prev_hash", "hash")
    SELECT i."id", i."occurred_at", i."username", i."username_truncated", i."username_normalized", u."id", i."user_id",
      i."result", i."ip", i."metadata", b."seq", seal_time, b."prev_hash", b."hash"
    FROM unnest(ids, seqs, prevs, hashes) AS b("id", "seq", "prev_hash", "hash")
    JOIN "account_log_inbox" i ON i."id" = b."id"
    JOIN "account_log_usernames" u ON u."username_normalized" = i."username_normalized"
    ORDER BY b."seq"
    RETURNING "id", "seq", "occurred_at", "username_key", "result", "ip", "metadata",
      date_trunc('hour', "occurred_at", 'UTC') AS "hour", nullif("metadata"->'location'->>'country', '') AS "country"
  ), totals AS (
    UPDATE "account_log_totals" SET "row_count" = "row_count" + (SELECT count(*) FROM sealed) WHERE "shard" = 0
  ), username_results AS (
    INSERT INTO "account_log_username_results" AS t ("username_key", "result", "row_count", "last_id")
    SELECT "username_key", "result", count(*), max("id") FROM sealed GROUP BY 1, 2
    ON CONFLICT ("username_key", "result") DO UPDATE
      SET "row_count" = t."row_count" + excluded."row_count", "last_id" = greatest(t."last_id", excluded."last_id")
  ), address_results AS (
    INSERT INTO "account_log_address_results" AS t ("ip", "result", "row_count", "last_id")
    SELECT "ip", "result", count(*), max("id") FROM sealed WHERE "ip" IS NOT NULL GROUP BY 1, 2
    ON CONFLICT ("ip", "result") DO UPDATE
      SET "row_count" = t."row_count" + excluded."row_count", "last_id" = greatest(t."last_id", excluded."last_id")
  ), failure_hours AS (
    INSERT INTO "account_log_failure_hours" AS t ("hour", "username_key", "ip", "failures")
    SELECT "hour", "username_key", "ip", count(*) FROM sealed
    WHERE "result" IN ('login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_rate_limited')
    GROUP BY 1, 2, 3
    ON CONFLICT ("hour", "username_key", "ip") DO UPDATE SET "failures" = t."failures" + excluded."failures"
  ), country_results AS (
    INSERT INTO "account_log_country_results" AS t ("country", "result", "row_count", "last_id")
    SELECT coalesce("country", ''), "result", count(*), max("id") FROM sealed GROUP BY 1, 2
    ON CONFLICT ("country", "result") DO UPDATE
      SET "row_count" = t."row_count" + excluded."row_count", "last_id" = greatest(t."last_id", excluded."last_id")
  ), country_hours AS (
    INSERT INTO "account_log_country_hours" AS t ("country", "result", "hour", "row_count")
    SELECT "country", "result", "hour", count(*) FROM sealed WHERE "country" IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT ("country", "hour", "result") DO UPDATE SET "row_count" = t."row_count" + excluded."row_count"
  ), months AS (
    INSERT INTO "account_log_months" AS t ("month", "min_id", "max_id", "min_seq", "max_seq", "row_count")
    SELECT date_trunc('month', seal_time, 'UTC'), min("id"), max("id"), min("seq"), max("seq"), count(*) FROM sealed
    ON CONFLICT ("month") DO UPDATE
      SET "min_id" = least(t."min_id", excluded."min_id"), "max_id" = greatest(t."max_id", excluded."max_id"),
        "min_seq" = least(t."min_seq", excluded."min_seq"), "max_seq" = greatest(t."max_seq", excluded."max_seq"),
        "row_count" = t."row_count" + excluded."row_count"
  ), hours AS (
    INSERT INTO "account_log_hours" AS t ("hour", "result", "row_count", "min_id", "max_id")
    SELECT "hour", "result", count(*), min("id"), max("id") FROM sealed GROUP BY 1, 2
    ON CONFLICT ("hour", "result") DO UPDATE
      SET "row_count" = t."row_count" + excluded."row_count", "min_id" = least(t."min_id", excluded."min_id"),
        "max_id" = greatest(t."max_id", excluded."max_id")
  )
  SELECT array_agg("hour" ORDER BY "hour"), array_agg("max_id" ORDER BY "hour"), array_agg("min_id" ORDER BY "hour")
  INTO bound_hours, bound_newest, bound_oldest
  FROM (SELECT "hour", max("id") AS "max_id", min("id") AS "min_id" FROM sealed GROUP BY 1) h;
  FOR i IN 1 .. coalesce(array_length(bound_hours, 1), 0) LOOP
    PERFORM "account_log_raise_hour_bounds"(bound_hours[i], bound_newest[i], bound_oldest[i]);
  END LOOP;

  DELETE FROM "account_log_inbox" WHERE "id" = ANY (ids);
  UPDATE "account_log_seal_state" SET "seq" = next_seq, "head_hash" = head, "sealed_at" = seal_time;
  RETURN next_seq - state."seq";
END;
$$;
--> statement-breakpoint
-- Verifications now name how far they went by chain position.
ALTER TABLE "account_log_verifications" RENAME COLUMN "through_id" TO "through_seq";--> statement-breakpoint
UPDATE "account_log_verifications" v SET "through_seq" = coalesce((SELECT l."seq" FROM "account_logs" l WHERE l."id" = v."through_seq"), 0);--> statement-breakpoint
-- Signed checkpoints (docs/audit.md, "Checkpoints"): the head at a position, signed with a key
-- the database never holds. The function checks the head against the log, so a caller supplies
-- only the signature and when it signed.
CREATE TABLE "account_log_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"head_hash" "bytea" NOT NULL,
	"row_count" bigint NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" "bytea" NOT NULL
);--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_logs_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed',
    CASE WHEN TG_TABLE_NAME LIKE 'account_logs%' THEN 'account_logs' ELSE TG_TABLE_NAME END, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Log rows are never changed or removed.';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "account_log_checkpoints_append_only" BEFORE UPDATE OR DELETE ON "account_log_checkpoints"
FOR EACH ROW EXECUTE FUNCTION "account_logs_refuse_change"();--> statement-breakpoint
CREATE TRIGGER "account_log_checkpoints_no_truncate" BEFORE TRUNCATE ON "account_log_checkpoints"
FOR EACH STATEMENT EXECUTE FUNCTION "account_logs_refuse_change"();--> statement-breakpoint
CREATE FUNCTION "account_log_checkpoint"("at_seq" bigint, "signed_head" bytea, "signed_time" timestamptz, "signer" text, "signed" bytea)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  actual bytea := (SELECT l."hash" FROM "account_logs" l WHERE l."seq" = "at_seq");
BEGIN
  IF actual IS NULL OR actual <> "signed_head" THEN
    RAISE EXCEPTION 'no sealed row at seq % has that hash', "at_seq" USING ERRCODE = 'check_violation';
  END IF;
  IF "at_seq" <= coalesce((SELECT max(c."seq") FROM "account_log_checkpoints" c), 0) THEN
    RAISE EXCEPTION 'a checkpoint at or after seq % exists', "at_seq" USING ERRCODE = 'unique_violation';
  END IF;
  INSERT INTO "account_log_checkpoints" ("seq", "head_hash", "row_count", "signed_at", "key_id", "signature")
  VALUES ("at_seq", "signed_head", "at_seq", "signed_time", "signer", "signed");
END;
$$;
--> statement-breakpoint
-- The owner's functions are for the owner and the roles it grants them to (db/roles/app-role.sql).
REVOKE EXECUTE ON FUNCTION "account_log_seal"(integer), "account_log_checkpoint"(bigint, bytea, timestamptz, text, bytea),
  "account_log_add_partitions"(timestamptz), "account_log_raise_hour_bounds"(timestamptz, bigint, bigint),
  "account_log_end_stuck_sealer"() FROM PUBLIC;
--> statement-breakpoint
-- Statistics for the copied rows now: the planner reads the new partitions before autovacuum has.
ANALYZE "account_logs";

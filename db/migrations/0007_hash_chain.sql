-- Audit integrity, part two: every row carries the hash of the row before it, so an edited,
-- removed, inserted or reordered row breaks the chain (docs/audit.md describes the encoding).
CREATE TABLE "account_log_verifications" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_log_verifications_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL,
	"through_id" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"rows_verified" bigint NOT NULL,
	"intact" boolean NOT NULL,
	"problem" text,
	"broken_at_id" bigint
);
--> statement-breakpoint
ALTER TABLE "account_logs" ADD COLUMN "prev_hash" "bytea" DEFAULT '\x'::bytea NOT NULL;--> statement-breakpoint
ALTER TABLE "account_logs" ADD COLUMN "hash" "bytea" DEFAULT '\x'::bytea NOT NULL;--> statement-breakpoint
-- Version 1 of the canonical encoding: the jsonb text of a fixed array of the row's fields.
-- Times are UTC with microseconds and addresses bare, so the text never depends on settings.
CREATE OR REPLACE FUNCTION "account_log_canonical"(r "account_logs") RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_array(
    1, r."id", to_char(r."occurred_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    r."username", r."username_truncated", r."username_normalized", r."user_id", r."result",
    host(r."ip"), r."metadata")::text
$$;
--> statement-breakpoint
-- Rows already written are chained in ID order, once.
ALTER TABLE "account_logs" DISABLE TRIGGER "account_logs_append_only";--> statement-breakpoint
DO $$
DECLARE
  r "account_logs";
  previous bytea := decode(repeat('00', 32), 'hex');
  current_hash bytea;
BEGIN
  FOR r IN SELECT * FROM "account_logs" ORDER BY "id" LOOP
    current_hash := sha256(previous || convert_to("account_log_canonical"(r), 'UTF8'));
    UPDATE "account_logs" SET "prev_hash" = previous, "hash" = current_hash WHERE "id" = r."id";
    previous := current_hash;
  END LOOP;
END;
$$;
--> statement-breakpoint
ALTER TABLE "account_logs" ENABLE TRIGGER "account_logs_append_only";--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_prev_hash_unique" UNIQUE("prev_hash");--> statement-breakpoint
ALTER TABLE "account_logs" ADD CONSTRAINT "account_logs_hash_length_check" CHECK (octet_length("account_logs"."hash") = 32 and octet_length("account_logs"."prev_hash") = 32);--> statement-breakpoint
-- One writer at a time from before its IDs are drawn to its commit, on every app process:
-- IDs then follow the chain, and each row links to the newest committed one.
CREATE OR REPLACE FUNCTION "account_logs_chain_lock"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(726531002);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_logs_chain_lock"
BEFORE INSERT ON "account_logs"
FOR EACH STATEMENT EXECUTE FUNCTION "account_logs_chain_lock"();
--> statement-breakpoint
-- Named to fire after account_logs_count_insert (row triggers fire in name order), so the hash
-- covers the row as stored.
CREATE OR REPLACE FUNCTION "account_logs_hash_chain"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  previous bytea;
BEGIN
  SELECT l."hash" INTO previous FROM "account_logs" l ORDER BY l."id" DESC LIMIT 1;
  NEW."prev_hash" := coalesce(previous, decode(repeat('00', 32), 'hex'));
  NEW."hash" := sha256(NEW."prev_hash" || convert_to("account_log_canonical"(NEW), 'UTF8'));
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_logs_hash_chain"
BEFORE INSERT ON "account_logs"
FOR EACH ROW EXECUTE FUNCTION "account_logs_hash_chain"();
--> statement-breakpoint
-- The counters are written by the trigger's owner, so the app's role needs no write access to
-- them (README: a role with only INSERT and SELECT on the log).
ALTER FUNCTION "account_logs_count_insert"() SECURITY DEFINER SET search_path = pg_catalog, public;

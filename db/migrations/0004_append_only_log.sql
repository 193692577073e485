-- The account log is an audit trail: rows are only ever added. Row triggers refuse UPDATE and
-- DELETE; TRUNCATE fires no row trigger, so a statement trigger refuses it too.
CREATE OR REPLACE FUNCTION "account_logs_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'account_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Log rows are never changed or removed.';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_logs_append_only"
BEFORE UPDATE OR DELETE ON "account_logs"
FOR EACH ROW EXECUTE FUNCTION "account_logs_refuse_change"();
--> statement-breakpoint
CREATE TRIGGER "account_logs_no_truncate"
BEFORE TRUNCATE ON "account_logs"
FOR EACH STATEMENT EXECUTE FUNCTION "account_logs_refuse_change"();

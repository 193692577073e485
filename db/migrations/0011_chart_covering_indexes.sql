-- The new indexes are built before the old ones are dropped: building only blocks writes, while
-- the drop, which blocks reads as well, then holds its lock for a moment at the end.
CREATE INDEX "account_logs_username_key_result_id_at_idx" ON "account_logs" USING btree ("username_key","result","id","occurred_at");--> statement-breakpoint
CREATE INDEX "account_logs_ip_result_id_at_idx" ON "account_logs" USING btree ("ip","result","id","occurred_at");--> statement-breakpoint
DROP INDEX "account_logs_username_key_result_id_idx";--> statement-breakpoint
DROP INDEX "account_logs_ip_result_id_idx";

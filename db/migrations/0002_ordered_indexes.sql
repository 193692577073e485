DROP INDEX "account_logs_username_key_id_idx";--> statement-breakpoint
DROP INDEX "account_logs_user_id_id_idx";--> statement-breakpoint
CREATE INDEX "account_logs_user_failures_idx" ON "account_logs" USING btree ("user_id","id") WHERE "account_logs"."result" = 'login_failed_wrong_password';--> statement-breakpoint
CREATE INDEX "users_locked_at_idx" ON "users" USING btree ("locked_at") WHERE "users"."locked_at" is not null;--> statement-breakpoint
CREATE INDEX "account_logs_username_key_id_idx" ON "account_logs" USING btree ("username_key","id");--> statement-breakpoint
CREATE INDEX "account_logs_user_id_id_idx" ON "account_logs" USING btree ("user_id","id");
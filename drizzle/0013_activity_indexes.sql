CREATE INDEX "cash_ledger_user_time_idx" ON "cash_ledger" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "fills_user_ts_idx" ON "fills" USING btree ("user_id","ts","id");--> statement-breakpoint
CREATE INDEX "settlement_obligations_settled_idx" ON "settlement_obligations" USING btree ("user_id","settled_at") WHERE "settlement_obligations"."status" = 'settled';
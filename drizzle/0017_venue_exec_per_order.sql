DROP INDEX "fills_venue_exec_key";--> statement-breakpoint
CREATE UNIQUE INDEX "fills_venue_order_exec_key" ON "fills" USING btree ("venue","order_id","exec_id") WHERE "fills"."exec_id" IS NOT NULL;
ALTER TABLE "fills" ALTER COLUMN "counterparty_order_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "venue" text DEFAULT 'BOURSE' NOT NULL;--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "exec_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "fills_venue_exec_key" ON "fills" USING btree ("venue","exec_id") WHERE "fills"."exec_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_venue_side" CHECK (("fills"."exec_id" IS NULL) = ("fills"."counterparty_order_id" IS NOT NULL) AND ("fills"."exec_id" IS NULL) = ("fills"."venue" = 'BOURSE'));
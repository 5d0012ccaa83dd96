CREATE TABLE "routed_orders" (
	"order_id" bigint PRIMARY KEY NOT NULL,
	"symbol" text NOT NULL,
	"venue" text NOT NULL,
	"cl_ord_id" text NOT NULL,
	"qty" bigint NOT NULL,
	"limit_cents" bigint NOT NULL,
	"nbbo_bid_cents" bigint,
	"nbbo_bid_venue" text,
	"nbbo_ask_cents" bigint,
	"nbbo_ask_venue" text,
	"decided_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "routed_orders_qty_pos" CHECK ("routed_orders"."qty" > 0)
);
--> statement-breakpoint
ALTER TABLE "routed_orders" ADD CONSTRAINT "routed_orders_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routed_orders" ADD CONSTRAINT "routed_orders_symbol_symbols_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."symbols"("symbol") ON DELETE no action ON UPDATE no action;
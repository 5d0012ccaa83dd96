CREATE TABLE "clearing_submissions" (
	"trade_date" date PRIMARY KEY NOT NULL,
	"settle_date" date NOT NULL,
	"rows" integer NOT NULL,
	"control_qty" bigint NOT NULL,
	"control_cents" bigint NOT NULL,
	"checksum" text NOT NULL,
	"csv" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);

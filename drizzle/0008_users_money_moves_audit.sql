-- Every change to a user's cash or reserved cash appends to the user's audit chain, which moves
-- audit_seq: the order path's reservation relies on it (an unchanged audit_seq means unchanged
-- balances, src/orders/reserve.ts). This makes the rule the database's, not only the code's.
CREATE FUNCTION users_money_moves_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.cash_cents, NEW.reserved_cash_cents) IS DISTINCT FROM (OLD.cash_cents, OLD.reserved_cash_cents)
     AND NEW.audit_seq <= OLD.audit_seq THEN
    RAISE EXCEPTION 'user %: cash changed without an audit entry', NEW.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'users_money_moves_audit';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER users_money_moves_audit BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_money_moves_audit();

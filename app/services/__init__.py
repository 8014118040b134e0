"""Use cases: explicit arguments, own the transaction, side effects after commit."""

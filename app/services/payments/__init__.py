"""Payments (docs/domain.md A9): provider events taken in and applied once, Stripe checkout of
plans, dunning. Work in progress: nothing routes here yet (see the issue 26 note)."""

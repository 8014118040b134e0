"""FinancialTracker: the application package. The factory is `app.factory.create_app`; the
layers and where a feature goes are in docs/architecture.md."""

"""Admin analytics: per-day facts kept by events (facts), read with a cache per kind of entity
(cache, figures), shaped as the dashboard's KPIs (dashboard) and the analytics views (reports),
exported (exports), scheduled (schedules) and a dossier's pack (packs)."""

from app.services.analytics import cache, facts  # noqa: F401  (their listeners must be registered)

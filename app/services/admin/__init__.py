"""The admins' desk: expert and referrer applications (approvals) and the live dashboard
figures (dashboards)."""

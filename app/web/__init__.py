"""The web layer: htmx helpers, the form base, security wiring. Features never import it."""

"""Export jobs (the `exports` queue): thin wrappers, the service does the work."""

from app.services.simulator import exports


def build_export(export_id: int) -> str:
    return exports.build(export_id)

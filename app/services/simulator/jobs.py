"""Simulator jobs: exports are built on the `exports` queue; the sweeps purge what has expired
and fail what a killed worker left half-built. Each is idempotent and bounded per run."""

from app.services.simulator import exports, simulations

BATCH = 500


def build_export(export_id: int) -> str:
    return exports.build(export_id)


def purge_visitor_simulations() -> int:
    return simulations.purge_visitor_simulations(BATCH)


def purge_expired_exports() -> int:
    return exports.purge_expired(BATCH)


def fail_stalled_exports() -> int:
    return exports.fail_stalled(BATCH)

from flask import Blueprint

# no prefix: /metrics is where a Prometheus server looks; the staff pages are under /ops
bp = Blueprint("ops", __name__)

from blueprints.ops import routes  # noqa: F401

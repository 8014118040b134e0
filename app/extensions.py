"""Unbound extension objects; create_app() binds them."""

from dogpile.cache import make_region
from flask_babel import Babel
from flask_compress import Compress
from flask_cors import CORS
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from app.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()
mail = Mail()
htmx = HTMX()
talisman = Talisman()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
# Shared aggregates (dashboard counts). A dogpile region, not a plain cache: when an entry
# expires, one process recomputes it under a Redis lock while every other request keeps
# serving the previous value, instead of all of them running the same full scan at once.
cache = make_region(key_mangler=lambda key: f"ft-cache:{key}")
compress = Compress()
# only the public API is readable cross-origin (no cookies): partner sites embed the simulator
cors = CORS(resources={r"/api/v1/*": {"origins": "*", "supports_credentials": False}})

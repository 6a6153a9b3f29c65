"""Flask extension objects, created unbound and initialised in create_app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal.db import Database

db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limits: each sensitive endpoint sets its own.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

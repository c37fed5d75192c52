"""The Flask extensions, created unbound; :func:`jiuzhu.app.create_app` binds them."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from jiuzhu.db import Base, ScopedSession

db = SQLAlchemy(model_class=Base, session_options={"class_": ScopedSession})
login_manager = LoginManager()
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()

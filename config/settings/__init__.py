"""Settings entry point: the base settings, then one module per integration."""

from config.settings.base import *  # noqa: F401,F403
from config.settings.stripe import *  # noqa: F401,F403
from config.settings.supplier import *  # noqa: F401,F403
from config.settings.tasks import *  # noqa: F401,F403
from config.settings.business import *  # noqa: F401,F403
from config.settings.evidence import *  # noqa: F401,F403
from config.settings.accounts import *  # noqa: F401,F403
from config.settings.production import check_production  # noqa: E402

check_production(globals())

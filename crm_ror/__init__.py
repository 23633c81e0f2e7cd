from . import controllers, demo, engine, models, report, wizard
from .hooks import uninstall_hook

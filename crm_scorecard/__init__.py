from . import controllers, demo, models, report, wizard
from .hooks import uninstall_hook

from . import controllers, engine, models, report, wizard

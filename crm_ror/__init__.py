from . import controllers, demo, engine, models, report, wizard

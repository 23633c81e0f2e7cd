from . import engine, models, report, wizard

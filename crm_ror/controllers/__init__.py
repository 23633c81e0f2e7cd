from . import nps_survey

"""History rows stored before 18.0.1.1.0 hold 0.0 for an undefined value: make it NULL, so that
the pivot and graph averages leave it out. (Undefined scores cannot be told apart from real
zeros in the old rows; they are recomputed with the history wizard when needed.)"""


def migrate(cr, version):
    cr.execute("UPDATE crm_scorecard_value SET value = NULL WHERE value_defined IS NOT TRUE")

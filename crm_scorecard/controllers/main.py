from odoo import fields, http
from odoo.http import content_disposition, request

from ..engine import periods as period_engine

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CrmScorecardController(http.Controller):
    @http.route(
        "/crm_scorecard/xlsx/<int:scorecard_id>/<string:day>", type="http", auth="user", readonly=True
    )
    def export_xlsx(self, scorecard_id, day):
        """The XLSX of a scorecard for the period of ``day``, streamed: nothing is stored, and
        the figures are the ones the user may see (his rights, the scorecard's rules)."""
        scorecard = request.env["crm.scorecard"].browse(scorecard_id)
        day = fields.Date.to_date(day)
        filename, content = scorecard._export_xlsx(
            period_engine.period_of(scorecard.period_type, day, scorecard._tz())
        )
        return request.make_response(
            content,
            headers=[
                ("Content-Type", XLSX_MIMETYPE),
                ("Content-Length", len(content)),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )

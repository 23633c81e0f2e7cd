from markupsafe import Markup, escape

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

PAGE = Markup(
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>%(title)s</title>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
    "<body style='font-family: sans-serif; max-width: 40em; margin: 2em auto'>%(body)s</body></html>"
)


class NpsSurveyController(http.Controller):
    """The one-time link of a satisfaction survey: GET shows the 0-10 question, POST writes the one answer.

    The unguessable token in the URL is the only credential (no session, no login), so the form carries
    no CSRF token: a forged POST would need the token, which is all a valid POST needs anyway."""

    def _page(self, title, body, status=200):
        html = PAGE % {"title": escape(title), "body": body}
        return request.make_response(
            html, headers=[("Content-Type", "text/html; charset=utf-8")], status=status
        )

    def _error(self, error):
        return self._page("Survey", Markup("<h1>Survey</h1><p>%s</p>") % error.args[0], status=410)

    @http.route("/crm_ror/nps/<string:token>", type="http", auth="public", methods=["GET"], sitemap=False)
    def nps_form(self, token, **_kwargs):
        Answer = request.env["crm.ror.nps.answer"]
        try:
            answer = Answer._crm_ror_find_by_token(token)
        except UserError as error:
            return self._error(error)
        question = request.env._(
            "How likely are you to recommend %(company)s to a friend or colleague?",
            company=answer.company_id.name,
        )
        buttons = Markup("").join(
            Markup(
                "<label style='margin-right: .5em'><input type='radio' name='score' value='%s' required/> %s</label>"
            )
            % (score, score)
            for score in range(11)
        )
        body = Markup(
            "<h1>%s</h1><form method='post'><p>%s</p><p>0 = %s, 10 = %s</p>"
            "<p><textarea name='comment' rows='4' cols='60' placeholder='%s'></textarea></p>"
            "<p><button type='submit'>%s</button></p></form>"
        ) % (
            question,
            buttons,
            request.env._("not at all likely"),
            request.env._("extremely likely"),
            request.env._("Anything to add? (optional)"),
            request.env._("Send"),
        )
        return self._page(request.env._("Survey"), body)

    @http.route(
        "/crm_ror/nps/<string:token>", type="http", auth="public", methods=["POST"], csrf=False, sitemap=False
    )
    def nps_submit(self, token, score=None, comment=None, **_kwargs):
        try:
            request.env["crm.ror.nps.answer"]._crm_ror_answer_by_token(token, score, comment)
        except ValidationError as error:  # a bad score: the link stays valid
            return self._page("Survey", Markup("<h1>Survey</h1><p>%s</p>") % error.args[0], status=400)
        except UserError as error:  # a used or expired link
            return self._error(error)
        return self._page(
            request.env._("Thank you"), Markup("<h1>%s</h1>") % request.env._("Thank you for your answer.")
        )

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine import clv
from .crm_ror_customer_profile import DAYS_PER_WEEK


class CrmRorClvCalibration(models.Model):
    """How well the company's lifetime-value model predicts: fitted on the purchases up to a cut-off,
    its predicted purchases in the holdout period after it are compared with the actual ones, by
    number of repeat purchases before the cut-off (company-wide figures, no customer's own)."""

    _name = "crm.ror.clv.calibration"
    _description = "Lifetime Value Calibration"
    _order = "create_date desc, id desc"
    _rec_name = "cutoff_date"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    cutoff_date = fields.Date(
        "Cut-off",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=182),
        help="The model is fitted on the purchases up to this date.",
    )
    end_date = fields.Date(
        "Holdout until",
        required=True,
        default=fields.Date.context_today,
        help="The purchases after the cut-off up to this date are the actual ones to predict.",
    )
    model = fields.Selection(
        [("mbgnbd", "Modified BG/NBD"), ("bgnbd", "BG/NBD")],
        "Purchase model",
        required=True,
        default=lambda self: self.env.company.ror_clv_model,
    )
    customer_count = fields.Integer("Customers", readonly=True)
    mae = fields.Float("Mean absolute error", readonly=True, digits=(16, 3), help="Purchases per customer.")
    parameters = fields.Char(readonly=True)
    line_ids = fields.One2many("crm.ror.clv.calibration.line", "calibration_id", readonly=True)

    _sql_constraints = [
        ("dates", "CHECK(end_date > cutoff_date)", "The holdout must end after the cut-off date."),
    ]

    def action_compute(self):
        """Fit on the history to the cut-off and compare with the holdout (on demand, per company)."""
        for calibration in self:
            calibration._compute_calibration()
        return True

    def _compute_calibration(self):
        self.ensure_one()
        company = self.company_id
        self.env.flush_all()  # read with SQL
        Profile = self.env["crm.ror.customer.profile"]
        # Purchase days of the company's customers, as the profiles count them.
        rows = self.env.execute_query(
            SQL(
                """
                WITH lines AS (%(lines)s),
                docs AS (
                    SELECT partner_id, doc_id, doc_date FROM lines
                  GROUP BY partner_id, doc_id, doc_date
                    HAVING bool_or(is_purchase) AND sum(amount) > %(precision)s
                )
                SELECT partner_id, array_agg(DISTINCT doc_date ORDER BY doc_date)
                  FROM docs WHERE partner_id IS NOT NULL GROUP BY partner_id
                """,
                lines=Profile._ror_sales_lines_query(company, self.end_date),
                precision=company.currency_id.rounding / 2,
            )
        )
        x, tx, age, actual = [], [], [], []
        for _partner_id, days in rows:
            before = [day for day in days if day <= self.cutoff_date]
            if not before:
                continue  # a customer of the holdout period only: the model knows nothing of him
            x.append(len(before) - 1)
            tx.append((before[-1] - before[0]).days / DAYS_PER_WEEK)
            age.append((self.cutoff_date - before[0]).days / DAYS_PER_WEEK)
            actual.append(len(days) - len(before))
        holdout = (self.end_date - self.cutoff_date).days / DAYS_PER_WEEK
        try:
            params, table, mae = clv.calibration(
                x,
                tx,
                age,
                actual,
                holdout,
                model=self.model,
                min_customers=Profile._ror_clv_min_customers,
                min_repeat=Profile._ror_clv_min_repeat,
            )
        except clv.NotEnoughHistory as error:
            raise UserError(
                self.env._(
                    "%(company)s: no calibration up to %(date)s, not enough history: %(reason)s. Choose a "
                    "later cut-off.",
                    company=company.name,
                    date=self.cutoff_date,
                    reason=str(error),
                )
            ) from error
        # sudo: the rows are computed here, users only read them (read-only ACL).
        self.sudo().line_ids.unlink()
        self.sudo().write(
            {
                "customer_count": len(x),
                "mae": mae,
                "parameters": f"r={params.r:.3f}, alpha={params.alpha:.3f}, a={params.a:.3f}, b={params.b:.3f}",
                "line_ids": [
                    fields.Command.create(
                        {
                            "frequency": row.frequency,
                            "customers": row.customers,
                            "predicted": row.predicted,
                            "actual": row.actual,
                        }
                    )
                    for row in table
                ],
            }
        )


class CrmRorClvCalibrationLine(models.Model):
    _name = "crm.ror.clv.calibration.line"
    _description = "Lifetime Value Calibration Row"
    _order = "calibration_id, frequency"

    calibration_id = fields.Many2one("crm.ror.clv.calibration", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="calibration_id.company_id", store=True)
    frequency = fields.Integer(
        "Repeat purchases before the cut-off", help="The last row counts this many or more."
    )
    customers = fields.Integer()
    predicted = fields.Float("Predicted purchases (mean)", digits=(16, 3), aggregator="avg")
    actual = fields.Float("Actual purchases (mean)", digits=(16, 3), aggregator="avg")

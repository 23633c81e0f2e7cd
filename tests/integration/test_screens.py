"""Screens that read at a glance: every report offers a graph and a pivot, and a figure never
breaks away from its unit on a kanban card."""

from lxml import etree

from ..common import ADDONS, CrmTransactionCase


class TestScreens(CrmTransactionCase):
    def _report_models(self):
        """Our SQL-view models (``_auto = False``): the reports."""
        return [
            name
            for name, model in self.env.registry.items()
            if model._original_module in ADDONS and not model._auto and not model._abstract
        ]

    def test_every_report_has_a_graph_and_a_pivot(self):
        reports = self._report_models()
        self.assertGreaterEqual(len(reports), 8)
        for name in reports:
            with self.subTest(report=name):
                types = set(self.env["ir.ui.view"].search([("model", "=", name)]).mapped("type"))
                self.assertLessEqual({"graph", "pivot"}, types)
                actions = self.env["ir.actions.act_window"].search([("res_model", "=", name)])
                self.assertTrue(actions, "a report nobody can open")
                for action in actions:
                    modes = {mode.strip() for mode in action.view_mode.split(",")}
                    self.assertLessEqual({"graph", "pivot"}, modes, action.name)

    def test_kanban_figures_stay_with_their_units(self):
        """A number field followed by its unit ('60 %') sits in a nowrap element with it."""
        views = self.env["ir.ui.view"].search([("type", "=", "kanban"), ("model", "like", "crm%")])
        views = views.filtered(lambda v: v.xml_id.split(".")[0] in ADDONS)
        self.assertTrue(views)
        checked = 0
        for view in views:
            arch = etree.fromstring(view.arch_db.encode())
            for field in arch.iter("field"):
                unit = (field.tail or "").strip() or "".join(
                    (sibling.text or "").strip() for sibling in field.itersiblings() if sibling.tag == "span"
                )[:1]
                if not unit.startswith("%"):
                    continue
                checked += 1
                holder = field.getparent()
                with self.subTest(view=view.xml_id, field=field.get("name")):
                    self.assertIn("text-nowrap", holder.get("class", "") + holder.get("t-attf-class", ""))
        self.assertTrue(checked, "no figure with a unit was found: the test checks nothing")

"""Structure every addon must keep: manifest, files, access rules, valid views and menus."""

import ast
import csv

from lxml import etree

from ..common import ADDONS, ROOT, CrmTransactionCase


class TestAddonFiles(CrmTransactionCase):
    def _manifest(self, addon):
        return ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())

    def test_manifest(self):
        for addon in ADDONS:
            with self.subTest(addon=addon):
                manifest = self._manifest(addon)
                self.assertRegex(manifest["version"], r"^18\.0\.\d+\.\d+\.\d+$")
                self.assertTrue(manifest["application"], "must show in Apps")
                self.assertEqual(manifest["license"], "LGPL-3")
                for key in ("name", "summary", "category", "author", "website", "depends"):
                    self.assertTrue(manifest.get(key), f"{addon}: manifest key {key} is empty")
                for data_file in manifest.get("data", []) + manifest.get("demo", []):
                    self.assertTrue((ROOT / addon / data_file).is_file(), f"{addon}: {data_file} is missing")

    def test_addon_layout(self):
        for addon in ADDONS:
            with self.subTest(addon=addon):
                for path in (
                    "static/description/icon.png",
                    "security/ir.model.access.csv",
                    "readme/DESCRIPTION.md",
                    f"i18n/{addon}.pot",
                    "README.rst",
                ):
                    self.assertTrue((ROOT / addon / path).is_file(), f"{addon}: {path} is missing")

    def test_every_xml_file_parses(self):
        files = [path for addon in ADDONS for path in (ROOT / addon).rglob("*.xml")]
        self.assertTrue(files)
        for path in files:
            with self.subTest(path=str(path.relative_to(ROOT))):
                etree.parse(str(path))

    def test_access_csv_references_models_of_the_addon(self):
        for addon in ADDONS:
            with open(ROOT / addon / "security" / "ir.model.access.csv", newline="") as handle:
                for row in csv.DictReader(handle):
                    with self.subTest(addon=addon, access=row["id"]):
                        self.assertTrue(self.env.ref(f"{addon}.{row['id']}", raise_if_not_found=False))


class TestAddonRecords(CrmTransactionCase):
    def _xmlids(self, model):
        return self.env["ir.model.data"].search([("module", "in", ADDONS), ("model", "=", model)])

    def test_addons_installed(self):
        modules = self.env["ir.module.module"].search([("name", "in", ADDONS)])
        self.assertEqual(sorted(modules.mapped("name")), sorted(ADDONS))
        self.assertEqual(set(modules.mapped("state")), {"installed"})
        self.assertTrue(all(modules.mapped("application")))

    def test_every_model_has_access_rules(self):
        own_models = [
            name
            for name, model in self.env.registry.items()
            if model._original_module in ADDONS and not model._abstract
        ]
        for name in own_models:
            with self.subTest(model=name):
                accesses = self.env["ir.model.access"].search([("model_id.model", "=", name)])
                self.assertTrue(accesses, f"model {name} has no ir.model.access line")

    def test_every_view_validates(self):
        views = self.env["ir.ui.view"].browse(self._xmlids("ir.ui.view").mapped("res_id"))
        for view in views:
            with self.subTest(view=view.xml_id):
                view._check_xml()

    def test_every_window_action_opens(self):
        actions = self.env["ir.actions.act_window"].browse(
            self._xmlids("ir.actions.act_window").mapped("res_id")
        )
        for action in actions:
            with self.subTest(action=action.xml_id):
                model = self.env[action.res_model]
                modes = [mode.strip() for mode in action.view_mode.split(",")]
                views = model.get_views([(False, mode) for mode in modes])
                self.assertEqual(set(views["views"]), set(modes))

    def test_every_menu_leads_somewhere(self):
        menus = self.env["ir.ui.menu"].browse(self._xmlids("ir.ui.menu").mapped("res_id"))
        for menu in menus:
            with self.subTest(menu=menu.complete_name):
                self.assertTrue(menu.action or menu.child_id, "a menu with neither action nor sub-menus")

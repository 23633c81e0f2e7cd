"""Every user-facing string of the three addons reads in French.

The catalogue checks run without a database: each ``fr.po`` translates every msgid of its ``.pot``
and keeps its placeholders and markup. The database check loads French and reads our views, field
labels, help texts and selection labels as a French user gets them.
"""

import re

import polib
import pytest

from odoo.tools.translate import TranslationModuleReader

from ..common import ADDONS, ROOT, CrmTransactionCase

# %(name)s, %(score).0f, %s, %%, {{ expression }} and {name}: what the code or QWeb substitutes
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-+ #0]*\d*(?:\.\d+)?[sdfr]|%[sd]|%%|\{\{.*?\}\}|\{[a-z_0-9]*\}")
TAG = re.compile(r"<(/?[a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:=\"[^\"]*\")?)*)\s*/?>")


def catalogue(addon, name):
    return polib.pofile(str(ROOT / addon / "i18n" / name))


def markup(text):
    """Tags with their attributes, in order: the parts of a term a translation must keep."""
    return [(tag, " ".join(attrs.split())) for tag, attrs in TAG.findall(text)]


@pytest.mark.parametrize("addon", ADDONS)
def test_french_catalogue_translates_every_term(addon):
    pot_ids = {entry.msgid for entry in catalogue(addon, f"{addon}.pot")}
    translated = {entry.msgid for entry in catalogue(addon, "fr.po") if entry.msgstr.strip()}
    missing = sorted(pot_ids - translated)
    assert not missing, f"{addon}/i18n/fr.po lacks {len(missing)} translations, e.g. {missing[:5]}"


@pytest.mark.parametrize("addon", ADDONS)
def test_french_keeps_placeholders_and_markup(addon):
    wrong = []
    for entry in catalogue(addon, "fr.po"):
        if not entry.msgstr:
            continue
        if sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(entry.msgstr)):
            wrong.append(("placeholders", entry.msgid))
        if markup(entry.msgid) != markup(entry.msgstr):
            wrong.append(("markup", entry.msgid))
    assert not wrong, f"{addon}/i18n/fr.po: {wrong[:5]}"


def test_placeholder_check_catches_a_lost_name():
    assert sorted(PLACEHOLDER.findall("KPI %(kpi)s: %(code)s")) != sorted(PLACEHOLDER.findall("KPI %(kpi)s"))
    assert markup('<span class="a">x</span>') != markup("<span>x</span>")


class TestFrenchInTheClient(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(list(ADDONS), ["fr_FR"], overwrite=True)
        cls.french = {}
        for addon in ADDONS:
            cls.french.update({e.msgid: e.msgstr for e in catalogue(addon, "fr.po") if e.msgstr})

    def _records(self, model):
        """Our addons' records of `model`, through their XML ids."""
        ids = (
            self.env["ir.model.data"]
            .search([("module", "in", ADDONS), ("model", "=", model)])
            .mapped("res_id")
        )
        return self.env[model].browse(ids).exists()

    def _check(self, label, english, shown):
        """A term is translated when the French user sees fr.po's translation of it."""
        english, shown = english.strip(), shown.strip()
        if len(re.sub(r"\W+", "", english)) <= 1:
            # Odoo's exporter leaves out empty and one-letter terms ("R", "%", "→"): nothing to translate
            return None
        expected = self.french.get(english)
        if expected is None:
            return f"{label}: {english!r} has no French translation"
        if shown != expected.strip():
            return f"{label}: {english!r} shows {shown!r} in French"
        return None

    def test_views_read_in_french(self):
        View = self.env["ir.ui.view"]
        arch = View._fields["arch_db"]
        problems = []
        views = self._records("ir.ui.view")
        self.assertGreater(len(views), 50)
        for view in views:
            english = view.with_context(lang="en_US").arch_db
            french = view.with_context(lang="fr_FR").arch_db
            pairs = arch.get_translation_dictionary(english, {"fr_FR": french})
            for term, by_lang in pairs.items():
                problems.append(self._check(view.xml_id or view.name, term, by_lang["fr_FR"]))
        problems = [p for p in problems if p]
        self.assertFalse(problems, "\n".join(problems[:20]))

    def test_field_labels_help_and_choices_read_in_french(self):
        problems = []
        fields = self._records("ir.model.fields")
        self.assertGreater(len(fields), 200)
        for field in fields:
            # a stock field that an addon only extends keeps stock Odoo's label and translation
            if not set(field.modules.split(", ")) <= set(ADDONS):
                continue
            fr = field.with_context(lang="fr_FR")
            en = field.with_context(lang="en_US")
            label = f"{field.model}.{field.name}"
            problems.append(self._check(label, en.field_description, fr.field_description))
            if en.help:
                problems.append(self._check(f"{label} help", en.help, fr.help))
        for choice in self._records("ir.model.fields.selection"):
            en = choice.with_context(lang="en_US").name
            fr = choice.with_context(lang="fr_FR").name
            problems.append(
                self._check(f"{choice.field_id.model}.{choice.field_id.name}={choice.value}", en, fr)
            )
        problems = [p for p in problems if p]
        self.assertFalse(problems, "\n".join(problems[:20]))

    def test_pot_files_are_up_to_date(self):
        """The committed .pot holds the terms the installed code has: `python3 dev.py pot` refreshes it."""
        for addon in ADDONS:
            exported = {row[4] for row in TranslationModuleReader(self.env.cr, modules=[addon]) if row[4]}
            committed = {entry.msgid for entry in catalogue(addon, f"{addon}.pot")}
            self.assertEqual(
                sorted(exported - committed),
                [],
                f"{addon}/i18n/{addon}.pot lacks these terms: run `python3 dev.py pot`",
            )
            self.assertEqual(
                sorted(committed - exported),
                [],
                f"{addon}/i18n/{addon}.pot has terms the code no longer has: run `python3 dev.py pot`",
            )

"""The XLSX export of a scorecard's figures for one period (built in memory, streamed)."""

import io

import xlsxwriter

STOPLIGHT_COLOURS = {"red": "#F8D7DA", "yellow": "#FFF3CD", "green": "#D4EDDA", "blue": "#CCE5FF"}
TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def scorecard_xlsx(scorecard, evaluation):
    """XLSX bytes of ``evaluation`` (``crm.scorecard._evaluate``) of ``scorecard``."""
    env = scorecard.env
    period = evaluation["period"]
    stoplights = dict(scorecard._fields["stoplight"]._description_selection(scorecard.env))
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet(period.label)
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    number = workbook.add_format({"num_format": "#,##0.00"})
    colours = {
        key: workbook.add_format({"bg_color": colour, "num_format": "0.0"})
        for key, colour in STOPLIGHT_COLOURS.items()
    }
    plain_percent = workbook.add_format({"num_format": "0.0"})
    sheet.write(0, 0, scorecard.name, title)
    sheet.write(1, 0, env._("Period"), bold)
    sheet.write(1, 1, f"{period.label} ({period.date_from} - {period.date_to})")
    sheet.write(2, 0, env._("Score (%)"), bold)
    if evaluation["score"] is not None:
        sheet.write_number(
            2, 1, evaluation["score"] * 100, colours.get(evaluation["stoplight"], plain_percent)
        )
    else:
        sheet.write(2, 1, env._("no data"))
    headers = [
        env._("Perspective"),
        env._("KPI"),
        env._("Unit"),
        env._("Weight"),
        env._("Baseline"),
        env._("Target"),
        env._("Value"),
        env._("Previous period"),
        env._("Same period last year"),
        env._("Performance (%)"),
        env._("Progress (%)"),
        env._("Score (%)"),
        env._("Stoplight"),
        env._("Trend"),
    ]
    score_column = headers.index(env._("Score (%)"))
    row = 4
    for col, header in enumerate(headers):
        sheet.write(row, col, header, bold)
    for line in scorecard.line_ids:
        row += 1
        figures = evaluation["lines"][line.id]
        cells = [
            line.perspective_id.name,
            line.kpi_id.name,
            line.unit_label or "",
            line.weight,
            line.baseline,
            line.target,
            figures["value"],
            figures["previous"],
            figures["last_year"],
            None if figures["performance"] is None else figures["performance"] * 100,
            None if figures["progress"] is None else figures["progress"] * 100,
            None if figures["score"] is None else figures["score"] * 100,
            stoplights.get(figures["stoplight"], ""),
            TREND_ARROWS.get(figures["trend"], ""),
        ]
        for col, cell in enumerate(cells):
            if cell is None:
                sheet.write(row, col, env._("no data"))
            elif isinstance(cell, float | int):
                fmt = colours.get(figures["stoplight"], plain_percent) if col == score_column else number
                sheet.write_number(row, col, cell, fmt)
            else:
                sheet.write(row, col, cell)
    sheet.set_column(0, 1, 28)
    sheet.set_column(2, len(headers), 14)
    workbook.close()
    return output.getvalue()

"""What a page shows to a principal whose role may not see it (the route itself already answers
403; this is for Dash's page callback, which builds a layout for whatever path it is asked)."""

from __future__ import annotations

from dash import html

from dashboard.i18n import t


def layout(lang: str) -> html.Div:
    return html.Div([html.P(t("forbidden", lang)), html.A(t("login_title", lang), href="/login")],
                    className="gw-denied", id="gw-denied")

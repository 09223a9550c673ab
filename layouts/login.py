"""The sign-in page: a plain HTML form that works without JavaScript, rendered on the server with
Jinja's autoescaping (every value is text, never markup). Its only script-free style comes from
assets/gridwall-login.css."""

from __future__ import annotations

from flask import render_template_string

from dashboard.i18n import t

_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · gridwall</title>
<link rel="stylesheet" href="/assets/gridwall-login.css">
</head>
<body class="gw-login">
<main class="gw-login-box">
  <h1>{{ app_title }}</h1>
  {% if message %}<p class="gw-login-message" role="alert" id="gw-login-message">{{ message }}</p>{% endif %}
  {% if signed_in %}
  <p class="gw-login-who" id="gw-login-who">{{ signed_in }}</p>
  <form method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <button type="submit" id="gw-logout">{{ logout }}</button>
  </form>
  {% else %}
  <form method="post" action="/login{{ query }}" autocomplete="on">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <label>{{ user_label }}<input name="username" id="gw-username" autocomplete="username" maxlength="64" required autofocus></label>
    <label>{{ password_label }}<input name="password" id="gw-password" type="password" autocomplete="current-password" maxlength="128" required></label>
    <button type="submit" id="gw-login-submit">{{ submit }}</button>
  </form>
  {% endif %}
  <p class="gw-login-lang"><a href="?lang=zh{{ next_part }}">{{ lang_zh }}</a> · <a href="?lang=en{{ next_part }}">{{ lang_en }}</a></p>
</main>
</body>
</html>"""


def render(lang: str, csrf: str, message: str | None = None, next_path: str | None = None,
           signed_in: str | None = None) -> str:
    from urllib.parse import quote

    query = f"?next={quote(next_path, safe='/')}&lang={lang}" if next_path else f"?lang={lang}"
    next_part = f"&next={quote(next_path, safe='/')}" if next_path else ""
    return render_template_string(
        _PAGE, lang=lang, title=t("login_title", lang), app_title=t("app_title", lang), message=message,
        csrf=csrf, query=query, next_part=next_part, user_label=t("login_user", lang),
        password_label=t("login_password", lang), submit=t("login_submit", lang), signed_in=signed_in,
        logout=t("logout", lang), lang_zh=t("lang_zh", lang), lang_en=t("lang_en", lang))

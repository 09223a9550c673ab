"""The web side's guard (docs/access.md): who is asking, what each route needs, and the
well-kept libraries that hold the line: Flask-Login for sessions, Flask-WTF for CSRF,
Flask-Limiter (Redis storage) for rate limits, Flask-Talisman for the security headers.

Every request is answered by one rule, looked up in ROUTES by path; a path no rule names needs a
signed-in principal. The principal comes from, in this order: the intranet proxy's header (only
from a configured proxy address), a wall token in the URL (kept in the session after a redirect
that drops it from the address bar), the session (a user signed in, or a token kept), else
nobody. Programs send a token as ``Authorization: Bearer <token>`` instead.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import flask
from flask_limiter import Limiter
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from sqlalchemy import Engine

from dashboard.access.principal import ANONYMOUS, Principal
from dashboard.access.roles import Role, load_roles
from dashboard.access.secrets import server_secret, token_digest, verify_password
from dashboard.config import Settings
from dashboard.i18n import pick_lang, t
from dashboard.store.accounts import Accounts, Token, User
from dashboard.store.keys import LIMIT_PREFIX

log = logging.getLogger(__name__)

AUTH = "signed_in"  # a rule that needs a principal, whatever its rights
# Path prefix -> the right it needs (None: anyone). The longest matching prefix wins; a path that
# matches none needs AUTH. Pages add theirs through Guard.page (the wall: see.wall).
ROUTES: dict[str, str | None] = {
    "/login": None,
    "/logout": None,
    "/healthz": None,  # anyone gets up or down; admin.health gets the detail (dashboard/app.py)
    "/assets/": None,  # scripts, styles and the city's map: no personal data
    "/_dash-component-suites/": None,  # the libraries' scripts
    "/_favicon.ico": None,
    "/wall/poll": "see.wall",
    "/desk/api/": "see.desk",  # the desk's page itself is guarded as a page (Guard.page)
    "/desk/api/cases.": "see.reports",  # the list's export (.xlsx, .csv): it leaves the building
    "/desk/api/weekly.": "see.reports",  # the weekly 督办 list's export
    "/desk/api/report.": "see.reports",  # the evaluation report (.pdf, .xlsx; docs/reports.md)
    "/desk/api/act/supervise": "act.supervise",  # 督办 (a case, a department)
    "/desk/api/act/alert": "act.dispatch",  # an alert: 确认, 误报, 转案件
    "/desk/api/act/send": "act.dispatch",  # a collector sent to 核实/核查
    "/desk/api/act/briefing-case": "act.supervise",  # the briefing's case story, chosen on the desk
    "/briefing/": "see.briefing",  # the briefing's poll and data (the page itself: Guard.page)
    "/desk/replay": "see.desk",  # the replay page (also guarded as a page)
    "/desk/api/replay": "see.desk",  # its fixes, stops and options (named, not left to /desk/api/)
    "/_dash-layout": AUTH,
    "/_dash-dependencies": AUTH,
    "/_dash-update-component": AUTH,
    "/_reload-hash": AUTH,
}
TOKEN_TOUCH_S = 300.0  # a token's last use is written at most this often (not on every poll)
REFUSAL_AUDIT_S = 60.0  # a refusal anyone can repeat is written at most this often per address and name
REFUSALS_KEPT = 4096  # ... remembered for this many (action, address, name) at the most


def redis_storage_uri(url: str) -> str:
    """Flask-Limiter's (the limits library's) name for our Redis URL."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def _networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip())


@dataclass
class Guard:
    settings: Settings
    accounts: Accounts
    roles: Mapping[str, Role]
    limiter: Limiter
    pages: dict[str, str]  # page path -> right

    # --- who is asking ------------------------------------------------------------------------
    def principal(self) -> Principal:
        return flask.g.get("principal", ANONYMOUS)

    def address(self) -> str:
        """The client's address: the peer's, or, behind a trusted proxy, the first hop it names."""
        peer = flask.request.remote_addr or ""
        if self._from_proxy(peer):
            forwarded = flask.request.headers.get("X-Forwarded-For", "")
            first = forwarded.split(",")[0].strip()
            if first:
                return first
        return peer

    def _from_proxy(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(ip in n for n in self._proxies)

    def user_principal(self, user: User, signed_in_at: float = 0.0, kind: str = "user") -> Principal | None:
        role = self.roles.get(user.role)
        if role is None or user.disabled:
            return None
        return Principal(kind, user.id, user.name, role, user.districts, signed_in_at)  # type: ignore[arg-type]

    def token_principal(self, token: Token) -> Principal | None:
        role = self.roles.get(token.role)
        if role is None or token.revoked_at is not None:
            return None
        return Principal("token", token.id, token.name, role, token.districts)

    # --- rules --------------------------------------------------------------------------------
    def rule(self, path: str) -> str | None:
        if path in self.pages:
            return self.pages[path]
        best = max((p for p in ROUTES if path.startswith(p)), key=len, default=None)
        return ROUTES[best] if best is not None else AUTH

    def limit(self, rate: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator: at most ``rate`` requests per principal (a token or a session's user),
        e.g. the poll's per-token limit."""
        return self.limiter.limit(rate, key_func=lambda: self.principal().who)

    def page(self, path: str, right: str, layout: Callable[..., Any]) -> Callable[..., Any]:
        """Guard a Dash page: its path needs ``right``, and so does its layout, which Dash's
        page callback builds for whatever path the browser names."""
        from layouts import denied

        self.pages[path] = right

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not self.principal().may(right):
                return denied.layout(pick_lang(kwargs.get("lang")))
            return layout(*args, **kwargs)

        return guarded

    def audit(self, action: str, who: str | None = None, **detail: Any) -> None:
        try:
            self.accounts.audit(who or self.principal().who, self.address(), action, detail, time.time())
        except Exception:  # an audit that cannot be written is logged, never a 500 for the user
            log.exception("audit %s not written", action)

    def audit_refusal(self, action: str, who: str, **detail: Any) -> None:
        """A refusal anyone can cause at will (a spoofed proxy header, an unknown proxy user):
        written at most once per REFUSAL_AUDIT_S for each action, address and name, with how
        many were not written since, so a flood cannot fill the audit log or write SQL per
        request."""
        key, now = (action, self.address(), who), time.monotonic()
        last, skipped = self._refusals.get(key, (-REFUSAL_AUDIT_S, 0))
        if now - last < REFUSAL_AUDIT_S:
            self._refusals[key] = (last, skipped + 1)
            return
        self._refusals.pop(key, None)
        self._refusals[key] = (now, 0)
        while len(self._refusals) > REFUSALS_KEPT:  # the oldest first (insertion order)
            self._refusals.pop(next(iter(self._refusals)))
        self.audit(action, who=who, **detail, **({"not_written_before": skipped} if skipped else {}))

    @property
    def alias_key(self) -> bytes:
        """The server secret the device aliases are keyed by (stable across restarts and
        workers; the masking module derives its own key from it)."""
        return self._alias_key

    def __post_init__(self) -> None:
        self._alias_key = server_secret(self.settings.secret_key, self.settings.data_dir)
        self._proxies = _networks(self.settings.auth_proxy_addresses)
        self._touched: dict[int, tuple[str, float]] = {}  # token id -> (address, when written)
        self._refusals: dict[tuple[str, str, str], tuple[float, int]] = {}  # (action, address, who) -> (written, skipped)


def _wants_html(request: flask.Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("Accept", "")


def _safe_next(value: str | None) -> str:
    """Only a path on this site: "/desk" yes, "//evil.example" or "https://..." no."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _lang() -> str:
    return pick_lang(flask.request.args.get("lang") or flask.request.cookies.get("gw_lang"))


def install(server: flask.Flask, settings: Settings, engine: Engine,
            csp_script_hashes: Callable[[], list[str]]) -> Guard:
    """Put the guard in front of every route of ``server``. ``csp_script_hashes``: the hashes
    of the inline scripts the pages carry (Dash's renderer config), for the CSP."""
    server.secret_key = server_secret(settings.secret_key, settings.data_dir)
    server.config.update(
        SESSION_COOKIE_NAME="gw_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # a kiosk link from another site still opens the wall
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # The cookie outlives the idle timeout a little; the server's check (_who) is what ends it.
        PERMANENT_SESSION_LIFETIME=max(settings.session_idle_s, 60.0),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (which has its idle timeout)
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    accounts = Accounts(engine)
    roles = load_roles(settings.roles_file)
    # Initialised on the app only after the guard's own before_request functions, so that a
    # limit keyed by the principal sees who is asking (Flask runs them in registration order).
    limiter = Limiter(lambda: guard.address(), storage_uri=redis_storage_uri(settings.resolved_redis_url),
                      strategy="fixed-window", swallow_errors=True, in_memory_fallback_enabled=True,
                      # No X-RateLimit-* headers: reading the window back for them is one more
                      # Redis round trip on every poll (bench/bench_poll.py); a refusal says
                      # rate_limited in its body and the screens back off by themselves.
                      headers_enabled=False, key_prefix=LIMIT_PREFIX)
    guard = Guard(settings, accounts, roles, limiter, pages={})
    CSRFProtect(server)
    talisman = Talisman(
        server,
        force_https=False,  # TLS ends at the proxy; it redirects
        strict_transport_security=settings.secure_cookies,
        session_cookie_secure=settings.secure_cookies,
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "script-src": ["'self'", *csp_script_hashes()],
            # Dash, Leaflet and Plotly set element styles at run time.
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "data:", "blob:", *_tile_sources(settings)],
            "connect-src": "'self'",
            "font-src": "'self'",
            "media-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        },
        referrer_policy="same-origin",
    )
    script_hashes: list[str] = []

    @server.before_request
    def _script_hashes() -> None:
        # Dash adds inline scripts (the pages' clientside callback) when it sets itself up, at
        # its first request, after this app was made; their hashes join the CSP then (Dash's
        # own set-up runs before this: its before_request was registered first).
        if not script_hashes:
            script_hashes.extend(csp_script_hashes())
            talisman.content_security_policy["script-src"] = ["'self'", *script_hashes]

    login_manager = LoginManager(server)
    login_manager.session_protection = None  # the idle timeout and sessions_after do this job

    @login_manager.user_loader
    def _load_user(user_id: str) -> Principal | None:
        user = accounts.user(user_id=int(user_id)) if user_id.isdigit() else None
        signed_in_at = float(flask.session.get("at", 0.0))
        if user is None or signed_in_at < user.sessions_after:
            return None  # a new password, a disable or a role change since: signed out
        return guard.user_principal(user, signed_in_at)

    @server.before_request
    def _who() -> flask.Response | None:
        request = flask.request
        now = time.time()
        flask.g.principal = ANONYMOUS
        header = settings.auth_proxy_header
        if header and request.headers.get(header):
            if not guard._from_proxy(request.remote_addr or ""):
                guard.audit_refusal("proxy_refused", who="anonymous", header=header, peer=request.remote_addr or "")
                return _refuse(403, "proxy_untrusted")
            user = accounts.user(name=request.headers[header].strip())
            principal = guard.user_principal(user, kind="proxy") if user is not None else None
            if principal is None:
                guard.audit_refusal("proxy_unknown_user", who=f"proxy:{request.headers[header].strip()[:64]}")
                return _refuse(403, "proxy_unknown_user")
            flask.g.principal = principal
            return None
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            # A program's token (a monitor reading /healthz, a test's poll): this request only,
            # no session. A wrong one is refused outright rather than treated as nobody.
            found = accounts.token_by_digest(token_digest(bearer[7:].strip()[:256]))
            principal = guard.token_principal(found) if found is not None else None
            if principal is None:
                return _refuse(401, "login_token")
            _touch_token(guard, principal, now)
            flask.g.principal = principal
            return None
        token = request.args.get("token")
        if token is not None and request.method == "GET":
            return _enter_with_token(guard, token, now)
        if "tok" in flask.session:
            found = accounts.token(int(flask.session["tok"]))
            principal = guard.token_principal(found) if found is not None else None
            if principal is None:
                flask.session.clear()
                flask.g.expired = "login_token"
            else:
                _touch_token(guard, principal, now)
                flask.g.principal = principal
            return None
        if current_user.is_authenticated:
            seen = float(flask.session.get("seen", 0.0))
            if now - seen > settings.session_idle_s:
                guard.audit("session_expired", who=current_user.who)
                logout_user()
                flask.session.clear()
                flask.g.expired = "login_expired"
                return None
            if now - seen > 5:  # the cookie is re-signed at most every 5 s, not on every poll
                flask.session["seen"] = now
            flask.g.principal = current_user._get_current_object()
        return None

    @server.before_request
    def _enforce() -> flask.Response | None:
        request = flask.request
        need = guard.rule(request.path)
        principal = guard.principal()
        if need is None or (need == AUTH and principal.is_authenticated) or principal.may(need or ""):
            return None
        if not principal.is_authenticated:
            if _wants_html(request):
                query = {"next": request.full_path.rstrip("?")}
                if flask.g.get("expired"):
                    query["m"] = flask.g.expired
                return flask.redirect("/login?" + urlencode(query))
            return _refuse(401, flask.g.get("expired") or "login")
        if _wants_html(request):  # a person at a page their role may not open: say so, in a page
            return _login_page(guard, t("forbidden", _lang()), 403, signed_in=_signed_in_text(principal, _lang()))
        return _refuse(403, "forbidden")

    @server.after_request
    def _csrf_cookie(response: flask.Response) -> flask.Response:
        # Dash's renderer sends the _csrf_token cookie back as X-CSRFToken on its POSTs, which
        # Flask-WTF checks: the cookie goes with every page a principal opens.
        if response.mimetype == "text/html" and guard.principal().is_authenticated:
            response.set_cookie("_csrf_token", generate_csrf(), samesite="Strict", secure=settings.secure_cookies,
                                httponly=False)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @server.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> flask.Response:
        guard.audit("csrf_refused", path=flask.request.path, reason=str(exc.description))
        return _refuse(400, "csrf")

    @server.errorhandler(429)
    def _too_many(_exc: Exception) -> flask.Response:
        if flask.request.path == "/login":
            return _login_page(guard, t("login_rate", _lang()), status=429)
        return _refuse(429, "rate_limited")

    @server.errorhandler(413)
    def _too_large(_exc: Exception) -> flask.Response:
        return _refuse(413, "too_large")

    limiter.init_app(server)
    by_address = limiter.limit(settings.login_rate, methods=["POST"])
    by_user = limiter.limit(settings.login_rate, methods=["POST"],
                            key_func=lambda: "user:" + (flask.request.form.get("username") or "")[:64])

    @server.route("/login", methods=["GET", "POST"])
    @by_address
    @by_user
    def _login() -> flask.Response:
        lang = _lang()
        if flask.request.method == "GET":
            principal = guard.principal()
            if principal.is_authenticated:
                return _login_page(guard, None, signed_in=_signed_in_text(principal, lang))
            message = flask.request.args.get("m")
            return _login_page(guard, t(message, lang) if message in ("login_expired", "login_token") else None)
        return _sign_in(guard, lang)

    @server.post("/logout")
    def _logout() -> flask.Response:
        principal = guard.principal()
        if principal.is_authenticated:
            guard.audit("logout")
        logout_user()
        flask.session.clear()
        return flask.redirect("/login")

    return guard


def _tile_sources(settings: Settings) -> list[str]:
    """The intranet tile server's origin, when the map uses one (the CSP allows its images)."""
    if not settings.tile_url:
        return []
    from urllib.parse import urlsplit

    parts = urlsplit(settings.tile_url.replace("{s}", "a"))
    return [f"{parts.scheme}://{parts.netloc.split('{')[0]}"] if parts.scheme and parts.netloc else []


def _refuse(status: int, reason: str) -> flask.Response:
    return flask.Response(b'{"reason":"%s"}' % reason.encode(), status=status, mimetype="application/json",
                          headers={"Cache-Control": "no-store"})


def _signed_in_text(principal: Principal, lang: str) -> str:
    role = principal.role.zh if principal.role and lang == "zh" else (principal.role.en if principal.role else "")
    return t("login_signed_in", lang).format(name=principal.name, role=role)


def _login_page(guard: Guard, message: str | None, status: int = 200, signed_in: str | None = None) -> flask.Response:
    from layouts import login

    lang = _lang()
    next_path = _safe_next(flask.request.args.get("next")) if flask.request.args.get("next") else None
    body = login.render(lang, generate_csrf(), message, next_path, signed_in)
    response = flask.Response(body, status=status, mimetype="text/html")
    response.set_cookie("gw_lang", lang, samesite="Lax", secure=guard.settings.secure_cookies, httponly=True)
    return response


def _sign_in(guard: Guard, lang: str) -> flask.Response:
    form = flask.request.form
    name = (form.get("username") or "").strip()[:64]
    password = form.get("password") or ""
    now = time.time()
    user = guard.accounts.user(name=name) if name else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # the same time as any other answer
        guard.audit("login_locked", who=f"user:{name}")
        minutes = max(1, round((user.locked_until - now) / 60))
        return _login_page(guard, t("login_locked", lang).format(minutes=minutes), status=403)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        detail: dict[str, Any] = {"name": name}
        if user is not None:
            until = guard.accounts.login_failed(user.id, now, guard.settings.login_max_failures,
                                                guard.settings.login_lock_s)
            if until is not None:
                guard.audit("account_locked", who=f"user:{name}", until=until)
                return _login_page(guard, t("login_locked", lang).format(
                    minutes=max(1, round(guard.settings.login_lock_s / 60))), status=403)
        guard.audit("login_failed", who=f"user:{name}" if user else "anonymous", **detail)
        return _login_page(guard, t("login_failed", lang), status=401)
    principal = guard.user_principal(user, now)
    if principal is None:
        guard.audit("login_refused", who=f"user:{name}", reason="disabled" if user.disabled else "unknown role")
        return _login_page(guard, t("login_disabled", lang), status=403)
    guard.accounts.login_succeeded(user.id, now)
    flask.session.clear()  # a fresh session: nothing from before the login carries over
    login_user(principal)
    flask.session.permanent = True
    flask.session["at"] = now
    flask.session["seen"] = now
    flask.g.principal = principal
    guard.audit("login", role=user.role)
    return flask.redirect(_safe_next(flask.request.args.get("next")))


def _enter_with_token(guard: Guard, token: str, now: float) -> flask.Response:
    """A kiosk opens its page with ?token=...: check it, keep it in the session and send the
    browser to the same page without the token (out of the address bar, history and logs)."""
    request = flask.request
    found = guard.accounts.token_by_digest(token_digest(token[:256])) if token else None
    principal = guard.token_principal(found) if found is not None else None
    query = {k: v for k, v in request.args.items() if k != "token"}
    if principal is None:
        guard.audit("token_refused", who="anonymous", known=found is not None)
        flask.session.clear()
        return flask.redirect("/login?" + urlencode({"m": "login_token", "next": request.path}))
    flask.session.clear()
    flask.session.permanent = True
    flask.session["tok"] = principal.id
    flask.g.principal = principal
    _touch_token(guard, principal, now)
    return flask.redirect(request.path + ("?" + urlencode(query) if query else ""))


def _touch_token(guard: Guard, principal: Principal, now: float) -> None:
    """Note a token's use: at once (and in the audit log) from a new address, otherwise at most
    every TOKEN_TOUCH_S, so a polling wall does not write SQL twice a second."""
    assert principal.id is not None
    address = guard.address()
    last = guard._touched.get(principal.id)
    if last is not None and last[0] == address and now - last[1] < TOKEN_TOUCH_S:
        return
    token = guard.accounts.token(principal.id)
    if token is not None and token.last_address != address:
        guard.audit("token_new_address", who=principal.who, previous=token.last_address or "")
    guard.accounts.token_used(principal.id, address, now)
    guard._touched[principal.id] = (address, now)

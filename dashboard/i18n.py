"""Every word the screens show, in Chinese (default) and English. Layouts never hold literals."""

from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "数字城管指挥大屏", "en": "Urban Management Command Wall"},
    "open_cases": {"zh": "在办案件", "en": "Open cases"},
    "overdue": {"zh": "超期", "en": "Overdue"},
    "warn": {"zh": "即将超期", "en": "Due soon"},
    "collectors": {"zh": "监督员在线", "en": "Collectors online"},
    "vehicles": {"zh": "车辆在线", "en": "Vehicles online"},
    "freshness": {"zh": "数据", "en": "Data"},
    "fresh_ok": {"zh": "实时", "en": "live"},
    "fresh_stale": {"zh": "中断", "en": "stale"},
    "seconds_ago": {"zh": "秒前", "en": "s ago"},
    "feed_gps": {"zh": "定位", "en": "GPS"},
    "feed_video": {"zh": "视频", "en": "Video"},
    "feed_case": {"zh": "案件", "en": "Cases"},
    "map": {"zh": "城市实时态势", "en": "Live city map"},
    # Around the map (layouts/panels.py, assets/gridwall-panels.js)
    "today": {"zh": "今日案件", "en": "Today"},
    "reported": {"zh": "上报", "en": "Reported"},
    "filed": {"zh": "立案", "en": "Filed"},
    "dispatched": {"zh": "派遣", "en": "Dispatched"},
    "closed": {"zh": "结案", "en": "Closed"},
    "close_rate": {"zh": "结案率", "en": "Close rate"},
    "on_time_close_rate": {"zh": "按期结案率", "en": "Closed on time"},
    "overdue_title": {"zh": "超期督办", "en": "Overdue watch"},
    "suspended": {"zh": "挂账", "en": "Suspended"},
    "since_day_start": {"zh": "较今日", "en": "since"},
    "district": {"zh": "区", "en": "District"},
    "street": {"zh": "街道", "en": "Street"},
    "department": {"zh": "部门", "en": "Department"},
    "rank_department": {"zh": "本月部门考评排名", "en": "Departments this month"},
    "rank_district": {"zh": "本月区考评排名", "en": "Districts this month"},
    "rank_street": {"zh": "本月街道考评排名", "en": "Streets this month"},
    "col_pos": {"zh": "名次", "en": "#"},
    "col_score": {"zh": "得分", "en": "Score"},
    "col_grade": {"zh": "等级", "en": "Gr."},
    "col_rate_dept": {"zh": "按期处置率", "en": "On time"},
    "col_rate_region": {"zh": "按期结案率", "en": "On time"},
    "col_overdue": {"zh": "超期", "en": "Late"},  # 超期未处置数 of the month
    "not_ready": {"zh": "统计准备中", "en": "Counting…"},
    "alerts_title": {"zh": "实时告警", "en": "Live alerts"},
    "sev_critical": {"zh": "严重", "en": "Critical"},
    "sev_alert": {"zh": "告警", "en": "Alert"},
    "sev_detection": {"zh": "识别", "en": "Detection"},
    "sev_urgent": {"zh": "紧急案件", "en": "Urgent"},
    "ended": {"zh": "已结束", "en": "ended"},
    "no_alerts": {"zh": "暂无告警", "en": "No alerts"},
    "sound_hint": {"zh": "点击此处开启告警声音", "en": "Click to enable alert sound"},
    "hourly_title": {"zh": "今日分时上报与结案", "en": "Reports and closures by hour"},
    "cats_title": {"zh": "在办案件类别", "en": "Open cases by category"},
    "component": {"zh": "部件", "en": "Components"},
    "event": {"zh": "事件", "en": "Events"},
    "vehicles_title": {"zh": "车辆监管", "en": "Vehicle supervision"},
    "veh_enforcement": {"zh": "执法车", "en": "Enforcement"},
    "veh_muck_truck": {"zh": "渣土车", "en": "Muck trucks"},
    "veh_sanitation": {"zh": "环卫车", "en": "Sanitation"},
    "veh_total": {"zh": "合计", "en": "Total"},
    "veh_kind": {"zh": "车辆类型", "en": "Type"},
    "veh_registered": {"zh": "总数", "en": "Known"},
    "veh_online": {"zh": "在线", "en": "Online"},
    "veh_moving": {"zh": "行驶", "en": "Moving"},
    "veh_parked": {"zh": "停驶", "en": "Parked"},
    # Written by the browser (assets/*.js) from the page's contract (dashboard/contract.py)
    "minutes_ago": {"zh": "分钟前", "en": "min ago"},
    "hours_ago": {"zh": "小时前", "en": "h ago"},
    "no_data": {"zh": "无数据", "en": "no data"},
    "waiting_data": {"zh": "等待数据…", "en": "Waiting for data…"},  # the wall before its first picture
    "hour_tick": {"zh": "{h}时", "en": "{h}:00"},  # the hourly chart's axis; {h} is the hour
    "history_loading": {"zh": "载入历史数据 {pct}%", "en": "Loading history {pct}%"},
    "history_loading_any": {"zh": "载入历史数据…", "en": "Loading history…"},  # no percentage known
    "date_locale": {"zh": "zh-CN", "en": "en-GB"},  # the title bar's date, through Intl.DateTimeFormat
    # Names the screen models put into the board (dashboard/screens/names.py)
    "area_unknown": {"zh": "未知", "en": "Unknown"},
    "not_dispatched": {"zh": "未派遣", "en": "Not dispatched"},
    "no_value": {"zh": "—", "en": "—"},
    # Video-AI alert types the catalogue maps to no event class (the others take their class's name)
    "alert_type_烟火": {"zh": "烟火", "en": "Smoke or fire"},
    "alert_type_人群聚集": {"zh": "人群聚集", "en": "Crowd gathering"},
    "alert_type_占道撑伞": {"zh": "占道撑伞", "en": "Umbrella stall on the road"},
    "alert_type_井盖异常": {"zh": "井盖异常", "en": "Manhole cover fault"},
    # Signing in (layouts/login.py, dashboard/access/web.py)
    "login_title": {"zh": "登录", "en": "Sign in"},
    "login_user": {"zh": "用户名", "en": "User name"},
    "login_password": {"zh": "密码", "en": "Password"},
    "login_submit": {"zh": "登录", "en": "Sign in"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_locked": {"zh": "账号已锁定，请 {minutes} 分钟后再试", "en": "This account is locked; try again in {minutes} min"},
    "login_disabled": {"zh": "账号已停用，请联系管理员", "en": "This account is disabled; ask an administrator"},
    "login_rate": {"zh": "尝试过于频繁，请稍后再试", "en": "Too many attempts; try again later"},
    "login_expired": {"zh": "会话已超时，请重新登录", "en": "Your session timed out; please sign in again"},
    "login_token": {"zh": "大屏令牌无效或已吊销，请登录或使用新令牌", "en": "This screen's token is invalid or revoked; sign in or use a new token"},
    "login_signed_in": {"zh": "已登录：{name}（{role}）", "en": "Signed in as {name} ({role})"},
    "logout": {"zh": "退出登录", "en": "Sign out"},
    # A language's own name, the same in either language (a reader who cannot read the other finds it)
    "lang_zh": {"zh": "中文", "en": "中文"},
    "lang_en": {"zh": "English", "en": "English"},
    "forbidden": {"zh": "无权访问此页面", "en": "You may not open this page"},
}


def t(key: str, lang: str = "zh") -> str:
    entry = TEXT[key]
    return entry.get(lang) or entry["zh"]


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else "zh"

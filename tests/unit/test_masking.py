"""The masking layer (dashboard/access/masking.py, docs/masking.md): an example for every rule,
properties (no clear phone survives, masking twice changes nothing, aliases are stable and
distinct, the unmasked path hands back the very same objects), and every field the table lists
masked in its doc kind, as a dict and as the raw bytes the poll joins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.access.masking import (
    ALIAS_CHARS,
    COMPOUND_SURNAMES,
    PERSONAL,
    RULES,
    DeviceAliases,
    Masking,
    mask_name,
    mask_phone,
    mask_phones_in,
    personal_table,
    street_level,
)

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-secret-" + b"k" * 20
OTHER_KEY = b"other-secret-" + b"q" * 20
ALIAS_RE = re.compile(rf"[A-Z]-[0-9A-HJKMNP-TV-Z]{{{ALIAS_CHARS}}}")
# A mobile number in the clear, bounded by non-digits as the layer bounds it (full-width too).
CLEAR_MOBILE = re.compile(r"(?<![0-9０-９])(?:(?:\+|00)?86[ \-－]?)?[1１][3-9３-９][0-9０-９]"
                          r"[ \-－]?[0-9０-９]{4}[ \-－]?[0-9０-９]{4}(?![0-9０-９])")
PROPS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("clear", "masked"), [
    ("张三", "张*"),
    ("王小明", "王*"),
    ("欧阳娜娜", "欧阳*"),
    ("司马光", "司马*"),
    ("欧阳", "欧*"),  # two characters: surname 欧, given name 阳
    ("李", "*"),
    ("阿依古丽·买买提", "阿*"),
    ("Alice Smith", "A*"),
    ("alice", "a*"),
    ("A", "*"),
    ("浙A12345", "浙A*"),  # a vehicle's name is its plate
    ("浙Z·A1234", "浙Z*"),
    ("张三(组长)", "张*"),
    ("  王五 ", "王*"),
    ("", ""),
    (None, None),
])  # fmt: skip
def test_mask_name(clear, masked):
    assert mask_name(clear) == masked


def test_compound_surnames_are_short_and_two_characters():
    assert 10 <= len(COMPOUND_SURNAMES) <= 40 and all(len(s) == 2 for s in COMPOUND_SURNAMES)


# --- phones ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("clear", "masked"), [
    ("13812341234", "138****1234"),
    ("138 1234 1234", "138****1234"),
    ("138-1234-1234", "138****1234"),
    ("+86 138 1234 1234", "+86 138****1234"),
    ("+8613812341234", "+86138****1234"),
    ("86-13812341234", "86-138****1234"),
    ("0086 13812341234", "0086 138****1234"),
    ("１３８１２３４１２３４", "１３８****１２３４"),
    ("0571-87654321", "0571-****4321"),
    ("010-62345678", "010-****5678"),
    ("021 6234567", "021 ****4567"),
    ("(0571)87654321", "(0571)****4321"),
    ("0571 8765 4321", "0571 ****4321"),
    ("057187654321", "0571****4321"),
    # Not a number this knows: never clear, the last four kept from seven digits on.
    ("12345", "*****"),
    ("+1 415 555 0100", "+* *** *** 0100"),
    ("138****1234", "138****1234"),
    ("", ""),
    (None, None),
])  # fmt: skip
def test_mask_phone(clear, masked):
    assert mask_phone(clear) == masked


@pytest.mark.parametrize(("clear", "masked"), [
    ("巡查中，请拨13812341234", "巡查中，请拨138****1234"),
    ("联系人电话：0571-87654321转8001", "联系人电话：0571-****4321转8001"),
    ("tel +86 139-0000-1111 / 0571 87654321", "tel +86 139****1111 / 0571 ****4321"),
    # Other numbers are left: a case id, a time stamp, a grid code, a plate, a house number.
    ("案件202511170001", "案件202511170001"),
    ("ts 1795230000.123", "ts 1795230000.123"),
    ("网格330106001001", "网格330106001001"),
    ("浙A12345 曙光路123号", "浙A12345 曙光路123号"),
    ("patrol", "patrol"),
    ("", ""),
    (None, None),
])  # fmt: skip
def test_mask_phones_in(clear, masked):
    assert mask_phones_in(clear) == masked


# --- addresses ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("clear", "street"), [
    ("浙江省杭州市西湖区北山街道曙光路123号3幢201室", "浙江省杭州市西湖区北山街道曙光路"),
    ("杭州市上城区湖滨街道解放街15号", "杭州市上城区湖滨街道解放街"),
    ("北京市朝阳区建国门外大街1号", "北京市朝阳区建国门外大街"),
    ("上海市浦东新区世纪大道100号", "上海市浦东新区世纪大道"),
    ("西湖区东信大道66号", "西湖区东信大道"),
    ("湖滨街道解放路附近", "湖滨街道解放路"),  # the simulator's addresses
    ("延安路与解放路交叉口东北角", "延安路"),  # an intersection: its first road
    ("浙江省杭州市 西湖区 曙光路 8 号", "浙江省杭州市西湖区曙光路"),
    ("西湖区北山街道宝石社区3幢", "西湖区北山街道"),  # no road: up to the 街道
    ("浙江省建德市大同镇上马村", "浙江省建德市大同镇"),
    ("杭州市西湖区黄龙大厦A座十二层", "杭州市西湖区"),  # no road, no 街道: the district
    ("杭州市某某花园", "杭州市"),
    ("新华坊小区3幢2单元", ""),  # nothing recognisable: left out, not passed on
    ("123 Main Street", ""),
    ("", ""),
    (None, None),
])  # fmt: skip
def test_street_level(clear, street):
    assert street_level(clear) == street


# --- aliases --------------------------------------------------------------------------------------

def test_aliases_are_short_readable_and_keep_the_kind_letter():
    aliases = DeviceAliases(KEY)
    for device_id, letter in (("C0012", "C"), ("E001", "E"), ("m017", "M"), ("owntracks:alice/phone", "D"),
                              ("12345", "D"), ("", "D")):
        alias = aliases.alias(device_id)
        assert ALIAS_RE.fullmatch(alias) and alias[0] == letter, (device_id, alias)
        assert len(alias) == 2 + ALIAS_CHARS <= 10


def test_aliases_are_stable_for_a_key_and_differ_between_keys():
    ids = [f"C{i:04d}" for i in range(1, 200)]
    first, again, other = DeviceAliases(KEY), DeviceAliases(KEY), DeviceAliases(OTHER_KEY)
    assert [first.alias(i) for i in ids] == [again.alias(i) for i in ids]  # a restart, another worker
    assert all(first.alias(i) != other.alias(i) for i in ids)


def test_fifty_thousand_devices_get_fifty_thousand_aliases():
    ids = ([f"C{i:05d}" for i in range(40_000)] + [f"{p}{i:04d}" for p in "ESM" for i in range(3000)]
           + [f"owntracks:user{i}/phone" for i in range(1000)])
    assert len(ids) == 50_000
    aliases = DeviceAliases(KEY)
    assert aliases.collisions(ids) == {}
    assert len({aliases.alias(i) for i in ids}) == 50_000


def test_collisions_reports_shared_aliases():
    aliases = DeviceAliases(KEY)
    aliases._cache["C0002"] = aliases.alias("C0001")  # as if two ids hashed alike
    assert aliases.collisions(["C0001", "C0002", "C0003"]) == {aliases.alias("C0001"): ["C0001", "C0002"]}


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        DeviceAliases(b"short")
    with pytest.raises(ValueError):
        Masking(device_ids=True)  # aliases need the server secret
    with pytest.raises(ValueError):
        Masking(address="street-ish")  # type: ignore[arg-type]


# --- the layer on docs ----------------------------------------------------------------------------

DEVICE = {"id": "C0012", "kind": "collector", "lat": 30.274512, "lon": 120.155231, "ts": 1795230000.123,
          "speed": 3.2, "battery": 87.0, "status": "休息，有事打13812341234", "name": "张三丰",
          "department": "JDZX", "phone": "13900001111"}
CASE = {"case_id": "202511170001", "open": True, "state": "dispatched", "grid_code": "33010600100101",
        "due": 1795233600.0, "warn_at": 1795232880.0, "suspended": False, "lat": 30.27, "lon": 120.16,
        "title": "噪音扰民（投诉人13712345678）", "address": "浙江省杭州市西湖区北山街道曙光路123号3幢201室",
        "actor": "李四", "reporter": "欧阳娜娜", "reporter_phone": "0571-87654321"}
ALERT = {"alert_id": "A7", "camera_id": "CAM001", "type": "占道经营", "state": "new", "severity": "alert",
         "start": 1795230000.0, "lat": 30.28, "lon": 120.15, "snapshot_url": "https://cam.local/snap/A7.jpg"}


def test_a_wall_token_sees_every_personal_field_masked():
    m = Masking.on(KEY)
    device = m.device(DEVICE)
    assert device == {**DEVICE, "id": DeviceAliases(KEY).alias("C0012"), "name": "张*",
                      "status": "休息，有事打138****1234", "phone": "139****1111"}
    case = m.case(CASE)
    assert case == {**CASE, "title": "噪音扰民（投诉人137****5678）", "address": "浙江省杭州市西湖区北山街道曙光路",
                    "actor": "李*", "reporter": "欧阳*", "reporter_phone": "0571-****4321"}
    alert = m.alert(ALERT)
    assert alert == {k: v for k, v in ALERT.items() if k != "snapshot_url"}
    assert m.trail_key("C0012") == device["id"] == m.device_id("C0012")


def test_the_input_doc_is_never_changed():
    before = orjson.dumps([DEVICE, CASE, ALERT])
    m = Masking.on(KEY, address="hidden")
    m.device(DEVICE), m.case(CASE), m.alert(ALERT)
    assert orjson.dumps([DEVICE, CASE, ALERT]) == before


@pytest.mark.parametrize(("policy", "phones", "address"), [
    ("full", True, "浙江省杭州市西湖区北山街道曙光路123号3幢201室（业主13812341234）"),
    ("full", False, None),  # nothing masked: the same object back
    ("street", True, "浙江省杭州市西湖区北山街道曙光路"),
    ("street", False, "浙江省杭州市西湖区北山街道曙光路"),
    ("hidden", True, "<left out>"),
])  # fmt: skip
def test_the_address_policy(policy, phones, address):
    doc = {**CASE, "address": "浙江省杭州市西湖区北山街道曙光路123号3幢201室（业主13812341234）"}
    m = Masking(phones=phones, address=policy)
    out = m.case(doc)
    if address is None:
        assert out["address"] == doc["address"]
    elif address == "<left out>":
        assert "address" not in out
    else:
        assert out["address"] == address.replace("13812341234", "138****1234")


def test_flags_are_independent():
    only_names = Masking(names=True)
    assert only_names.device(DEVICE) == {**DEVICE, "name": "张*"}
    assert "snapshot_url" not in only_names.alert(ALERT)  # snapshots go with the names: faces
    only_phones = Masking(phones=True)
    assert only_phones.alert(ALERT) is ALERT
    assert only_phones.device(DEVICE)["name"] == "张三丰" and only_phones.device(DEVICE)["id"] == "C0012"
    only_ids = Masking(device_ids=True, key=KEY)
    assert only_ids.device(DEVICE) == {**DEVICE, "id": DeviceAliases(KEY).alias("C0012")}
    assert only_ids.case(CASE) is CASE


def test_for_role():
    assert Masking.for_role(False, KEY) is Masking.none()
    assert Masking.for_role(True, KEY, "hidden") == Masking.on(KEY, "hidden")
    assert Masking.on(KEY).active and not Masking.none().active


def test_a_role_gets_the_same_masking_on_every_request():
    # What a Masking remembers (aliases, masked texts) only pays off if requests share it.
    assert Masking.for_role(True, KEY) is Masking.for_role(True, KEY) is Masking.on(KEY, "street")
    assert Masking.on(KEY, "hidden") is not Masking.on(KEY, "street")


# Per rule: a clear value for a field under it, and what must not be left of it once masked.
SAMPLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "alias": ("C0012", ("C0012",)),
    "name": ("张三丰", ("三丰",)),
    "phone": ("+86 138-1234-5678", ("1234",)),
    "phones_in": ("值班，请拨13812345678", ("13812345678", "1234")),
    "address": ("西湖区北山街道曙光路123号3幢201室", ("123", "3幢", "201")),
    "drop": ("https://cam.local/snap/A7.jpg", ("snap/A7",)),
}
BASE = {"device": {"id": "C0001", "kind": "collector", "lat": 30.2, "lon": 120.1, "ts": 1.0},
        "case": {"case_id": "K1", "open": True, "lat": 30.2, "lon": 120.1},
        "alert": {"alert_id": "A1", "camera_id": "CAM001", "state": "new", "start": 1.0}}


def test_every_rule_has_a_sample_and_the_table_covers_the_three_doc_kinds():
    assert set(PERSONAL) == {"device", "case", "alert"} == set(BASE)
    assert {rule for fields in PERSONAL.values() for rule in fields.values()} <= set(SAMPLES) == set(RULES)


@pytest.mark.parametrize("kind,name,rule", [(k, n, r) for k, fields in PERSONAL.items() for n, r in fields.items()])
def test_every_field_the_table_lists_is_masked(kind, name, rule):
    clear, leftovers = SAMPLES[rule]
    doc = {**BASE[kind], name: clear}
    m = Masking.on(KEY)
    masked = getattr(m, kind)(doc)
    assert masked.get(name) != clear
    out = orjson.dumps(masked).decode()
    assert not [bit for bit in leftovers if bit in out], out
    # The bytes the poll joins come out the same as the dict.
    assert orjson.loads(getattr(m, f"{kind}_bytes")(orjson.dumps(doc))) == masked


def test_the_doc_quotes_the_table():
    text = (ROOT / "docs/masking.md").read_text(encoding="utf-8")
    assert personal_table() in text


# --- bytes: the poll's path -----------------------------------------------------------------------

def test_bytes_path_matches_the_dict_path_and_leaves_other_docs_alone():
    m = Masking.on(KEY)
    for kind, doc in (("device", DEVICE), ("case", CASE), ("alert", ALERT)):
        raw = orjson.dumps(doc)
        assert orjson.loads(getattr(m, f"{kind}_bytes")(raw)) == getattr(m, kind)(doc)
    plain = orjson.dumps({"alert_id": "A1", "camera_id": "CAM001", "type": "占道经营"})
    assert m.alert_bytes(plain) is plain  # no personal key: no parse, the same bytes
    plain_case = orjson.dumps({"case_id": "K1", "title": "井盖缺失", "lat": 30.2})
    assert m.case_bytes(plain_case) is plain_case  # parsed, nothing changed: the same bytes


def test_a_delta_and_the_trails_carry_the_same_aliases_as_the_docs():
    m = Masking.on(KEY)
    delta = {"reset": True, "devices": [DEVICE], "cases": [CASE], "alerts": [ALERT],
             "cases_gone": ["K0"], "devices_gone": ["C0099"]}
    raw = m.live_bytes(orjson.dumps(delta))
    assert raw.startswith(b'{"reset":true')  # the poll recognises a reset by its first bytes
    out = orjson.loads(raw)
    alias = DeviceAliases(KEY).alias
    assert out == {"reset": True, "devices": [m.device(DEVICE)], "cases": [m.case(CASE)], "alerts": [m.alert(ALERT)],
                   "cases_gone": ["K0"], "devices_gone": [alias("C0099")]}
    trails = m.trails_bytes(b'"C0012":"120.1,30.2;120.1,30.3","E001":"120.2,30.1"')
    assert orjson.loads(b"{" + trails + b"}") == {alias("C0012"): "120.1,30.2;120.1,30.3", alias("E001"): "120.2,30.1"}
    whole = m.live({"v": 3, "full": [DEVICE], "cases": [], "alerts": [], "trails": {"C0012": "1,2"}})
    assert whole["full"][0]["id"] in whole["trails"]


def test_the_unmasked_path_returns_the_same_objects():
    none = Masking.none()
    for kind, doc in (("device", DEVICE), ("case", CASE), ("alert", ALERT)):
        raw = orjson.dumps(doc)
        assert getattr(none, kind)(doc) is doc
        assert getattr(none, f"{kind}_bytes")(raw) is raw
    delta, raw = {"devices": [DEVICE]}, b'{"devices":[]}'
    assert none.live(delta) is delta and none.live_bytes(raw) is raw
    assert none.trails_bytes(b'"C1":"1,2"') == b'"C1":"1,2"' and none.trail_key("C0012") == "C0012"


# --- properties -----------------------------------------------------------------------------------

SEPS = st.sampled_from(["", " ", "-"])
NO_DIGITS = st.text(st.characters(blacklist_categories=("Nd",), blacklist_characters="+*"), max_size=12)
PHONEY = st.text(alphabet="0123456789０１３８ -+*（）86号路张三", max_size=40)


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str, str]:
    """A mobile number as digits, and as written: maybe +86/86/0086 in front, maybe spaced."""
    digits = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    a, b = draw(SEPS), draw(SEPS)
    cc = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "86-"]))
    return digits, f"{cc}{digits[:3]}{a}{digits[3:7]}{b}{digits[7:]}", cc


@PROPS
@given(mobiles(), NO_DIGITS, NO_DIGITS)
def test_a_masked_text_never_holds_the_clear_number(mobile, before, after):
    digits, written, cc = mobile
    out = mask_phones_in(before + written + after)
    # Of the digits only the prefix's, the first three and the last four are left, however written.
    assert re.sub(r"\D", "", out) == re.sub(r"\D", "", cc) + digits[:3] + digits[7:]
    assert out.startswith(before) and out.endswith(digits[7:] + after)  # and nothing else touched
    assert mask_phone(written).endswith(digits[7:]) and digits not in mask_phone(written)


@PROPS
@given(PHONEY)
def test_no_clear_mobile_survives_in_any_text(text):
    assert CLEAR_MOBILE.search(mask_phones_in(text)) is None
    assert CLEAR_MOBILE.search(mask_phone(text) or "") is None


@PROPS
@given(st.one_of(st.text(max_size=30), PHONEY, st.from_regex(r"[张王欧阳司马李A-Za-z浙·* ]{0,6}", fullmatch=True)))
def test_masking_twice_changes_nothing(text):
    for fn in (mask_name, mask_phone, mask_phones_in, street_level):
        once = fn(text)
        assert fn(once) == once, fn.__name__


@PROPS
@given(st.text(alphabet="浙江省杭州市西湖区北山街道曙光路延安大街巷弄号幢栋室单元楼层小社0123456789 A座与附近镇乡", max_size=40))
def test_street_level_is_a_prefix_without_numbers_or_rooms(address):
    out = street_level(address)
    assert "".join(address.split()).startswith(out)
    assert not re.search(r"[0-9号幢栋室]|单元", out)


@PROPS
@given(st.from_regex(r"[\u4e00-\u9fff]{1,4}", fullmatch=True))
def test_a_chinese_name_keeps_at_most_its_surname(name):
    out = mask_name(name)
    assert out.endswith("*") and name.startswith(out[:-1]) and len(out) - 1 <= max(0, min(2, len(name) - 1))


@PROPS
@given(st.sets(st.text(min_size=1, max_size=24), min_size=1, max_size=300))
def test_aliases_are_stable_and_distinct(ids):
    one, two = DeviceAliases(KEY), DeviceAliases(KEY)
    aliases = [one.alias(i) for i in ids]
    assert aliases == [two.alias(i) for i in ids]
    assert len(set(aliases)) == len(ids)
    assert all(ALIAS_RE.fullmatch(a) for a in aliases)


JSONISH = st.dictionaries(st.sampled_from(["id", "name", "status", "phone", "title", "address", "actor", "reporter",
                                           "reporter_phone", "snapshot_url", "kind", "lat"]),
                          st.one_of(st.none(), st.text(max_size=20), st.integers(-(2**63), 2**63 - 1), PHONEY), max_size=8)


@PROPS
@given(JSONISH)
def test_the_none_path_returns_the_same_objects(doc):
    none = Masking.none()
    raw = orjson.dumps(doc)
    for kind in ("device", "case", "alert"):
        assert getattr(none, kind)(doc) is doc
        assert getattr(none, f"{kind}_bytes")(raw) is raw


@PROPS
@given(JSONISH)
def test_masked_docs_hold_no_clear_mobile_and_mask_idempotently(doc):
    m = Masking(names=True, phones=True, address="street")  # aliasing an alias is not idempotent, by design
    for kind in ("device", "case", "alert"):
        once = getattr(m, kind)(doc)
        assert getattr(m, kind)(once) == once
        personal = [once.get(f) for f in PERSONAL[kind]]  # (what is not personal is not touched)
        assert not [v for v in personal if isinstance(v, str) and CLEAR_MOBILE.search(v)]
        assert {k: v for k, v in once.items() if k not in PERSONAL[kind]} == \
               {k: v for k, v in doc.items() if k not in PERSONAL[kind]}

"""The one masking layer: personal data in the live picture's docs, masked by role on the server
before the bytes leave (docs/masking.md).

Pure: no I/O, no clock, no configuration read here. The caller picks a ``Masking`` for the
principal (``Masking.for_role``) and passes every device, case and alert doc through it, as a
dict (exports, screen models) or as the raw JSON bytes the poll joins (``*_bytes``).

``PERSONAL`` is the one list of which fields are personal and how each is masked; the methods
are driven by it, and docs/masking.md quotes it (``personal_table``, held to the doc by
tests/unit/test_masking.py).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal

import orjson

AddressPolicy = Literal["full", "street", "hidden"]
DocKind = Literal["device", "case", "alert"]
Rule = Literal["alias", "name", "phone", "phones_in", "address", "drop"]
Flag = Literal["names", "phones", "device_ids", "address"]

# --- the table: which fields are personal, and how each is masked ---------------------------------

PERSONAL: Final[Mapping[DocKind, Mapping[str, Rule]]] = MappingProxyType({
    "device": MappingProxyType({"id": "alias", "name": "name", "status": "phones_in", "phone": "phone"}),
    "case": MappingProxyType({"title": "phones_in", "description": "phones_in", "address": "address", "actor": "name",
                              "reporter": "name", "reporter_phone": "phone"}),
    "alert": MappingProxyType({"snapshot_url": "drop"}),
})  # fmt: skip

# Which flag of a Masking turns each rule on, and what the rule does (the doc's table says it).
RULES: Final[Mapping[Rule, tuple[Flag, str]]] = MappingProxyType({
    "alias": ("device_ids", "stable alias: `C0012` → `C-7K3M9QX2`"),
    "name": ("names", "surname or first letter kept: `张三` → `张*`, `Alice Smith` → `A*`"),
    "phone": ("phones", "`13812341234` → `138****1234`; not a phone: digits starred"),
    "phones_in": ("phones", "every phone number in the text masked, nothing else touched"),
    "address": ("address", "per the `address` policy: full (phones masked), street (cut to the road), hidden (left out)"),
    "drop": ("names", "left out (a snapshot may show faces)"),
})  # fmt: skip


def personal_table() -> str:
    """``PERSONAL`` as the Markdown table docs/masking.md quotes verbatim."""
    rows = ["| doc | field | masked as | when the role masks |", "|---|---|---|---|"]
    for kind, fields in PERSONAL.items():
        for name, rule in fields.items():
            flag, text = RULES[rule]
            rows.append(f"| {kind} | `{name}` | {text} | `{flag}` |")
    return "\n".join(rows)


# --- names ----------------------------------------------------------------------------------------

# Two-character surnames common enough to meet on a city's staff list. A name of exactly two
# characters is a surname plus a given name even when they spell one of these (司马 is not a
# whole name), so the list only applies from three characters on.
COMPOUND_SURNAMES: Final = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "宇文", "长孙",
    "夏侯", "轩辕", "端木", "南宫", "司徒", "司空", "独孤", "呼延", "赫连", "澹台", "钟离", "闻人",
    "申屠", "百里", "万俟",
})  # fmt: skip

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_CHINESE_NAME = re.compile(rf"[{_CJK}][{_CJK}·•]*")
# A vehicle's name is its plate (浙A12345, 浙Z·A1234): province and issuing letter are public
# (every plate of the city starts so); the rest identifies the vehicle.
_PLATE = re.compile(rf"[{_CJK}][A-Z][·•]?[0-9A-Z]{{4,6}}[{_CJK}]?")
_PLATE_HEAD = re.compile(rf"[{_CJK}][A-Z]")


def _kept_prefix(s: str) -> str:
    """The part of a name that stays clear (without the star)."""
    if _CHINESE_NAME.fullmatch(s):
        if len(s) > 2 and s[:2] in COMPOUND_SURNAMES:
            return s[:2]
        return s[:1] if len(s) > 1 else ""
    if _PLATE.fullmatch(s):
        return s[:2]
    # Latin and anything mixed: the first letter only ("Alice Smith" -> "A*"); one character
    # alone would be the whole name.
    return s[:1] if len(s) > 1 else ""


def _is_masked_name(s: str) -> bool:
    """Is ``s`` already a masked name, so masking it again changes nothing? The star stands
    behind what ``_kept_prefix`` keeps: nothing, one character, a compound surname or a plate's
    first two."""
    head = s[:-1]
    return (s.endswith("*") and "*" not in head
            and (len(head) <= 1 or head in COMPOUND_SURNAMES or _PLATE_HEAD.fullmatch(head) is not None))


def mask_name(s: str | None) -> str | None:
    """A person's name with only the surname kept: 张三 -> 张*, 欧阳娜娜 -> 欧阳*, 李 -> *,
    Alice Smith -> A*; a plate keeps province and letter: 浙A12345 -> 浙A*. Empty or None
    passes through. Idempotent."""
    if not s:
        return s
    s = s.strip()
    if not s or _is_masked_name(s):
        return s
    return _kept_prefix(s) + "*"


# --- phones ---------------------------------------------------------------------------------------

_D = "[0-9０-９]"  # full-width digits too: a phone typed on a Chinese keyboard may have them
_SEP = r"[ \-－]?"
_MOBILE = (rf"(?P<cc>(?:\+|00)?86{_SEP})?(?P<head>[1１][3-9３-９]{_D}){_SEP}"
           rf"(?P<mid>{_D}{{4}}|\*{{4}}){_SEP}(?P<tail>{_D}{{4}})")
# Area codes: 010 and 02x have three digits, every other one four; a local number never starts
# with 0 or 1. The masked form (****4321) is recognised, so masking twice changes nothing.
_LANDLINE = (rf"(?P<area>\(?[0０](?:[1１][0０]|[2２]{_D}|[3-9３-９]{_D}{{2}})\)?)(?P<sep>{_SEP})"
             rf"(?P<local>[2-9２-９]{_D}{{6,7}}|[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}|\*{{4}}{_D}{{4}})")
# Not inside a longer number: a case id or a timestamp that happens to hold 11 digits is left.
_PHONE = re.compile(rf"(?<![0-9０-９])(?:{_MOBILE}|{_LANDLINE})(?![0-9０-９])")
_DIGIT_OR_STAR = re.compile(r"[0-9０-９*]")


def _masked(m: re.Match[str]) -> str:
    if m.group("head"):
        return (m.group("cc") or "") + m.group("head") + "****" + m.group("tail")
    local = re.sub(r"[^0-9０-９]", "", m.group("local"))
    return m.group("area") + m.group("sep") + "****" + local[-4:]


def mask_phones_in(text: str | None) -> str | None:
    """Every mainland mobile and landline number inside ``text`` masked (138****1234,
    0571-****4321), with its +86/86 prefix kept as written; every other character untouched."""
    if not text or _PHONE.search(text) is None:  # most texts hold none: skip the substitution
        return text
    return _PHONE.sub(_masked, text)


def mask_phone(s: str | None) -> str | None:
    """A field that holds a phone number: 13812341234 -> 138****1234, +86 138-1234-1234 ->
    +86 138****1234, 0571-87654321 -> 0571-****4321. A value that is no phone number this
    knows still never shows clear: its digits are starred, the last four kept when there are at
    least seven (a foreign or an odd number stays recognisable to its owner). Idempotent."""
    if not s:
        return s
    if _PHONE.search(s) is not None:
        return _PHONE.sub(_masked, s)
    marks = _DIGIT_OR_STAR.findall(s)
    keep = 4 if len(marks) >= 7 else 0
    out, seen, total = [], 0, len(marks)
    for ch in s:
        if _DIGIT_OR_STAR.fullmatch(ch):
            seen += 1
            ch = ch if seen > total - keep else "*"
        out.append(ch)
    return "".join(out)


# --- addresses ------------------------------------------------------------------------------------

# Everything from the first digit or house/building/room word on is cut before anything else is
# read: whatever the parsing below makes of an odd address, a number, building or room is
# never part of the answer.
_DETAIL = re.compile(r"[0-9０-９]|[零〇一二三四五六七八九十百千两]+(?:号|幢|栋|楼|层|室|单元)|号|幢|栋|室|单元|[A-Za-z]座")
# A place-name character that is not a road's: 路桥区 then reads as a road, which is as coarse.
_N = rf"(?:(?![路街巷弄])[{_CJK}])"
_ADMIN = re.compile(
    rf"(?P<province>(?:北京|上海|天津|重庆)市|{_N}{{2,8}}?(?:省|自治区|特别行政区))?"
    rf"(?P<city>{_N}{{2,8}}?(?:市|自治州|地区|盟))?"
    # 小区/社区/园区/校区/景区 end in 区 but are places, not districts.
    rf"(?P<district>{_N}{{1,8}}?(?:区|县|旗|市)(?<!小区)(?<!社区)(?<!园区)(?<!校区)(?<!景区))?"
    rf"(?P<town>{_N}{{1,8}}?(?:街道|镇|乡))?"
)
# A road: a short name ending in a road word; 街 followed by 道 is a 街道 (a sub-district).
_ROAD = re.compile(rf"[{_CJK}A-Za-z]{{1,10}}?(?:大道|大街|胡同|路|街(?!道)|巷|弄)")


def street_level(address: str | None) -> str | None:
    """An address cut to street level: the administrative part (province, city, district,
    街道/镇/乡) and the first road after it, nothing after:
    浙江省杭州市西湖区北山街道曙光路123号3幢201室 -> 浙江省杭州市西湖区北山街道曙光路.
    An intersection keeps its first road (延安路与解放路交叉口东北角 -> 延安路: two roads
    name a corner, finer than a street). No road: up to the 街道/镇/乡, else the district,
    else the city; nothing recognisable: "" (an address this cannot read is left out, not
    passed on). Never a house number, building or room. Whitespace is dropped. Idempotent."""
    if not address:
        return address
    text = "".join(address.split())
    detail = _DETAIL.search(text)
    if detail is not None:
        text = text[:detail.start()]
    admin = _ADMIN.match(text)
    end = admin.end() if admin else 0
    road = _ROAD.match(text, end)
    return text[:road.end() if road else end]


# --- device aliases -------------------------------------------------------------------------------

# Crockford's base 32: no I, L, O or U, so an alias read off a wall across a room is not
# misread (1/I/L, 0/O) and spells no words.
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALIAS_CHARS: Final = 8  # 40 bits; see DeviceAliases
_KIND_LETTER = re.compile(r"[A-Za-z][0-9]")
_ALIAS_CACHE_MAX: Final = 100_000  # twice max_devices: ids come and go over the weeks


class DeviceAliases:
    """Stable, short, irreversible device aliases: ``C0012`` -> ``C-7K3M9QX2``.

    The alias is HMAC-SHA256 of the id under a key derived from the server secret, its first 40
    bits written as 8 Crockford base-32 characters. The same secret gives the same aliases after
    a restart and on every worker; without it the id space (C0001..C9999) cannot be enumerated
    to reverse them. The letter in front is the id's own first letter when the id follows the
    city's letter-then-digits scheme (C collector, E/S/M vehicles: what the doc's ``kind``
    says anyway), else ``D``: a screen tells kinds apart at a glance, and two ids with
    different letters can never collide.

    Why 40 bits: 50,000 devices make 1.25e9 pairs, so the chance that any two share an alias is
    about 1.25e9 / 2**40 ≈ 0.1% per secret (32 bits: 25%; 6 hex digits: certain). Ten characters
    ("C-7K3M9QX2") fit a map label; ``collisions`` checks a real fleet, and a new secret fixes the
    rare one.
    """

    __slots__ = ("_cache", "_key")

    def __init__(self, key: bytes) -> None:
        # A short key could be guessed, and with it every alias of the small id space reversed.
        if len(key) < 16:
            raise ValueError("the alias key must have at least 16 bytes (the server secret)")
        # A subkey of its own: the same secret signs sessions, and an alias must never be a
        # value that is valid anywhere else.
        self._key = hmac.digest(key, b"gridwall/device-alias/v1", "sha256")
        self._cache: dict[str, str] = {}

    def alias(self, device_id: str) -> str:
        found = self._cache.get(device_id)
        if found is not None:
            return found
        bits = int.from_bytes(hmac.digest(self._key, device_id.encode("utf-8", "surrogatepass"), "sha256")[:5])
        body = "".join(_CROCKFORD[(bits >> shift) & 31] for shift in range(35, -1, -5))
        letter = device_id[0].upper() if _KIND_LETTER.match(device_id) else "D"
        out = f"{letter}-{body}"
        if len(self._cache) >= _ALIAS_CACHE_MAX:
            self._cache.clear()  # bounded; refilled at one HMAC (~1 µs) per device
        self._cache[device_id] = out
        return out

    def collisions(self, device_ids: list[str]) -> dict[str, list[str]]:
        """Aliases that more than one of ``device_ids`` share (empty for a sound fleet)."""
        by_alias: dict[str, list[str]] = {}
        for d in dict.fromkeys(device_ids):
            by_alias.setdefault(self.alias(d), []).append(d)
        return {a: ids for a, ids in by_alias.items() if len(ids) > 1}


# --- the layer ------------------------------------------------------------------------------------

_DROP: Final = object()  # what a rule returns to leave the field out
Op = Callable[[Any], Any]
_MEMO_MAX: Final = 65_536


def _text(fn: Callable[[str], str | None]) -> Op:
    """A text rule as an op: a non-text value is masked by its text (a phone sent as a number),
    and results are remembered, since the same names, statuses and addresses come by twice a
    second per screen (a dict hit is ~20x cheaper than the regexes). Bounded: a sender that
    invents texts only makes it start over."""
    memo: dict[str, Any] = {}

    def op(value: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        found = memo.get(text)
        if found is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            found = memo[text] = fn(text)
        return found
    return op


@dataclass(frozen=True)
class Masking:
    """What is masked for one principal, and the methods that mask each doc kind.

    Every method returns a new dict when it changed something and the very same object when it
    did not; the input is never modified (docs are shared between screens). ``Masking.none()``
    changes nothing, so the unmasked path costs one empty loop."""

    names: bool = False
    phones: bool = False
    device_ids: bool = False
    address: AddressPolicy = "full"
    key: bytes = field(default=b"", repr=False)
    # Derived once: per doc kind, the (field, op) pairs this masking applies, and the byte
    # strings whose absence from a raw doc proves there is nothing to mask.
    _ops: Mapping[str, tuple[tuple[str, Op], ...]] = field(init=False, repr=False, compare=False)
    _probes: Mapping[str, tuple[bytes, ...] | None] = field(init=False, repr=False, compare=False)
    _aliases: DeviceAliases | None = field(init=False, repr=False, compare=False)

    _NONE: ClassVar[Masking]

    def __post_init__(self) -> None:
        if self.address not in ("full", "street", "hidden"):
            raise ValueError(f"address: {self.address!r}; expected full, street or hidden")
        aliases = DeviceAliases(self.key) if self.device_ids else None
        object.__setattr__(self, "_aliases", aliases)
        ops: dict[str, tuple[tuple[str, Op], ...]] = {}
        for kind, fields in PERSONAL.items():
            ops[kind] = tuple((name, op) for name, rule in fields.items() if (op := self._op(rule)) is not None)
        object.__setattr__(self, "_ops", MappingProxyType(ops))
        # Hot docs are written by orjson: compact, keys verbatim, so '"name"' is in the bytes iff
        # the key is (or a value spells it, which only costs a parse). A device doc always has
        # its id: when ids are aliased, looking is wasted (None: always parse).
        probes = {kind: None if any(name == "id" for name, _ in kind_ops)
                  else tuple(b'"%s"' % name.encode() for name, _ in kind_ops)
                  for kind, kind_ops in ops.items()}
        object.__setattr__(self, "_probes", MappingProxyType(probes))

    def _op(self, rule: Rule) -> Op | None:
        """The function that masks a field under ``rule``, or None when this masking leaves it."""
        if rule == "alias":
            if self._aliases is None:
                return None
            alias = self._aliases.alias
            return lambda value: alias(value if isinstance(value, str) else str(value))
        if rule == "name":
            return _text(mask_name) if self.names else None
        if rule == "phone":
            return _text(mask_phone) if self.phones else None
        if rule == "phones_in":
            return _text(mask_phones_in) if self.phones else None
        if rule == "address":
            if self.address == "hidden":
                return lambda _value: _DROP
            if self.address == "street":
                return _text(street_level)  # holds no digits after the cut, hence no phone
            return _text(mask_phones_in) if self.phones else None
        if rule == "drop":
            return (lambda _value: _DROP) if self.names else None
        raise ValueError(f"unknown masking rule {rule!r}")

    # --- choosing one ------------------------------------------------------------------------

    @classmethod
    def none(cls) -> Masking:
        """No masking: every method returns its input, the same object."""
        return cls._NONE

    @classmethod
    def on(cls, key: bytes, address: AddressPolicy = "street") -> Masking:
        """Everything masked, as for a wall token: names, phones, device ids, and addresses per
        ``address`` (the setting mask_address). The same instance for the same arguments: what
        it remembers (aliases, masked texts) then serves every request, not just one."""
        found = _ON.get((key, address))
        if found is None:
            found = _ON[(key, address)] = cls(names=True, phones=True, device_ids=True, address=address, key=key)
        return found

    @classmethod
    def for_role(cls, masked: bool, key: bytes, address: AddressPolicy = "street") -> Masking:
        """The masking for a principal whose role says ``masked`` (dashboard/access/roles.py)."""
        return cls.on(key, address) if masked else cls._NONE

    @property
    def active(self) -> bool:
        """Does this masking change anything? (False: the caller may skip it altogether.)"""
        return any(self._ops.values())

    # --- docs as dicts -----------------------------------------------------------------------

    def _apply(self, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] | None = None
        for name, op in self._ops[kind]:
            value = doc.get(name)
            if value is None:  # absent, or null: nothing personal either way
                continue
            masked = op(value)
            if masked == value:
                continue
            if out is None:
                out = dict(doc)  # copy on the first change: the caller's doc stays as it was
            if masked is _DROP:
                del out[name]
            else:
                out[name] = masked
        return doc if out is None else out

    def device(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self._apply("device", doc)

    def case(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self._apply("case", doc)

    def alert(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self._apply("alert", doc)

    def device_id(self, device_id: str) -> str:
        """A device id as this masking shows it: its alias, or itself."""
        return self._aliases.alias(device_id) if self._aliases is not None else device_id

    def trail_key(self, device_id: str) -> str:
        """The key a device's trail rides under in the whole picture's ``trails`` object: the
        same id its doc shows, so the browser joins them."""
        return self.device_id(device_id)

    def live(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A delta or the whole picture (docs/architecture.md "The live map"): every doc of
        ``devices``/``full``, ``cases`` and ``alerts`` masked, the ids of ``devices_gone`` and
        the keys of ``trails`` aliased; anything else as it is."""
        if not self.active:
            return payload
        out = dict(payload)
        for key, kind in (("devices", "device"), ("full", "device"), ("cases", "case"), ("alerts", "alert")):
            if key in out:
                out[key] = [self._apply(kind, d) for d in out[key]]
        if self._aliases is not None:
            if "devices_gone" in out:
                out["devices_gone"] = [self._aliases.alias(d) for d in out["devices_gone"]]
            if "trails" in out:
                out["trails"] = {self._aliases.alias(d): t for d, t in out["trails"].items()}
        return out

    # --- docs as the raw bytes the poll joins ------------------------------------------------

    def _apply_bytes(self, kind: str, raw: bytes) -> bytes:
        probes = self._probes[kind]
        if probes is not None:
            for probe in probes:
                if probe in raw:
                    break
            else:  # no personal key in the doc (or nothing to mask: no probes)
                return raw
        doc = orjson.loads(raw)
        out = self._apply(kind, doc)
        return raw if out is doc else orjson.dumps(out)

    def device_bytes(self, raw: bytes) -> bytes:
        return self._apply_bytes("device", raw)

    def case_bytes(self, raw: bytes) -> bytes:
        return self._apply_bytes("case", raw)

    def alert_bytes(self, raw: bytes) -> bytes:
        return self._apply_bytes("alert", raw)

    def live_bytes(self, raw: bytes) -> bytes:
        """``live`` on a stored delta's bytes (a ``"reset"`` mark stays first: orjson keeps the
        keys' order)."""
        if not self.active:
            return raw
        return orjson.dumps(self.live(orjson.loads(raw)))

    def trails_bytes(self, raw: bytes) -> bytes:
        """The body of the ``trails`` object as the store joins it (``"<id>":"lon,lat;...",...``)
        with each id replaced by the device's alias."""
        if self._aliases is None or not raw:
            return raw
        trails = orjson.loads(b"{" + raw + b"}")
        return orjson.dumps({self._aliases.alias(d): t for d, t in trails.items()})[1:-1]


Masking._NONE = Masking()
_ON: dict[tuple[bytes, str], Masking] = {}  # Masking.on's instances (a secret and a policy or three)

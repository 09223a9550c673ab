"""The ranking table the screens share (dashboard/screens/rankings.py): the city's rule for how
many bottom (and top) units are flagged is configuration, [casework] bottom_units."""

from __future__ import annotations

import pytest

from dashboard.casework.counters import Counters
from dashboard.config import ASSETS_DIR, load_settings
from dashboard.screens.names import load_names
from dashboard.screens.rankings import Rankings

NAMES = load_names(ASSETS_DIR / "city")


def settings(tmp_path, **casework):
    toml = tmp_path / "gridwall.toml"
    toml.write_text("[casework]\n" + "".join(f"bottom_units = {v!r}\n".replace("'", '"').replace("True", "true")
                                                for v in casework.values()), encoding="utf-8")
    return load_settings(path=toml, environ={}, data_dir=tmp_path)


def departments() -> dict[str, Counters]:
    """Every department of the demo city, each disposing on time a different share of 20 cases."""
    codes = [d.code for d in NAMES.city.departments]
    return {code: Counters(filed=20, disposed_on_time=20 - i, disposed_late=i, closed_on_time=20)
            for i, code in enumerate(codes)}


@pytest.mark.parametrize("k", [3, 5])
def test_the_bottom_and_top_k_are_flagged_as_the_city_says(tmp_path, k) -> None:
    table = Rankings(settings(tmp_path, bottom_units=k), NAMES).table("department", departments())
    ranked = [r for r in table["rows"] if r["pos"] is not None]
    assert len(ranked) >= 2 * k + 1
    assert [r["code"] for r in table["rows"] if r["bottom"]] == [r["code"] for r in ranked[-k:]]
    assert [r["code"] for r in table["rows"] if r["top"]] == [r["code"] for r in ranked[:k]]


@pytest.mark.parametrize("bad", [0, -1, 2.5, "5", True, 21])
def test_a_bad_bottom_units_is_refused_with_its_reason(tmp_path, bad) -> None:
    with pytest.raises(ValueError, match="bottom_units"):
        Rankings(settings(tmp_path, bottom_units=bad), NAMES)

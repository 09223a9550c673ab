"""What every browser test takes: a headless Chromium at 1920×1080, quit after the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import chrome


@pytest.fixture
def browser(need_chromium) -> Iterator[Any]:
    driver = chrome(1920, 1080)
    yield driver
    driver.quit()

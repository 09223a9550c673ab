"""Headless Chromium for the browser tests and benchmarks: Debian's chromium and chromedriver,
driven by selenium (the one dash[testing] pins). Offline flags from the machine notes: without
them Chromium keeps trying to reach Google's hosts."""

from __future__ import annotations

import shutil
from typing import Any

from helpers import TEST_TOKEN
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

OFFLINE_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--hide-scrollbars", "--autoplay-policy=no-user-gesture-required",
)


def chrome(width: int = 1920, height: int = 1080, scale: float = 1.0, network_log: bool = True,
           token: str | None = TEST_TOKEN) -> Any:
    """``token``: sent with every request (authorize); None for a browser that signs in or
    opens a kiosk link itself. ``network_log``: record every request (``requested_hosts`` needs it). Off for heap
    measurements: DevTools' network agent then keeps each response of the page's polls
    (blink::NetworkResourcesData, ~290 B apiece plus its body, up to its 100 MB buffer), which a
    kiosk browser without DevTools attached never does."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in OFFLINE_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    opts.add_argument(f"--force-device-scale-factor={scale}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", **({"performance": "ALL"} if network_log else {})})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=opts)
    # The window includes browser chrome even when headless; pin the page's own viewport so a
    # "1920×1080" screenshot is exactly that, at the requested device pixel ratio.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})
    if token:
        authorize(driver, token)
    return driver


def authorize(driver: Any, token: str) -> None:
    """Every request this browser makes carries the token (``Authorization: Bearer``), as if a
    kiosk had opened its wall with ``?token=`` once (docs/access.md); tests of that very flow
    use the URL instead."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {token}"}})


def requested_hosts(driver: Any) -> set[str]:
    """Every host the page asked for, from Chromium's performance log."""
    import json
    from urllib.parse import urlsplit

    hosts = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url.startswith(("http://", "https://", "ws://", "wss://")):
                hosts.add(urlsplit(url).hostname or "")
    return hosts


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import Settings, child_environment, load_settings


def test_defaults_are_embedded(tmp_path: Path):
    s = load_settings(path=None, environ={}, data_dir=tmp_path)
    assert s.mqtt_url is None and s.redis_url is None and s.database_url is None
    assert s.resolved_redis_url == f"unix://{tmp_path.resolve()}/redis.sock"
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/gridwall.db"
    assert s.resolved_mqtt_url.endswith("?protocol=3.1.1")
    assert (s.host, s.port, s.timezone, s.lang) == ("127.0.0.1", 8050, "Asia/Shanghai", "zh")


def test_environment_wins_over_the_file(tmp_path: Path):
    cfg = tmp_path / "gridwall.toml"
    cfg.write_text('port = 9000\nredis_url = "redis://file:6379/0"\ntimezone = "Asia/Urumqi"\n[feeds]\nstrict_devices = true\n')
    env = {"GRIDWALL_PORT": "9100", "GRIDWALL_REDIS_URL": "redis://env:6379/1"}
    s = load_settings(cfg, environ=env)
    assert s.port == 9100 and s.redis_url == "redis://env:6379/1"
    assert s.timezone == "Asia/Urumqi"  # from the file, the environment did not set it
    assert s.section("feeds") == {"strict_devices": True}


def test_config_file_from_environment_and_tz_alias(tmp_path: Path):
    cfg = tmp_path / "x.toml"
    cfg.write_text('host = "0.0.0.0"\n')
    s = load_settings(environ={"GRIDWALL_CONFIG": str(cfg), "GRIDWALL_TZ": "UTC"})
    assert s.host == "0.0.0.0" and s.timezone == "UTC"


def test_unknown_setting_is_an_error(tmp_path: Path):
    cfg = tmp_path / "gridwall.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="unknown setting 'prot'"):
        load_settings(cfg, environ={})


def test_children_get_every_address_resolved(tmp_path: Path):
    s = load_settings(path=None, environ={}, data_dir=tmp_path, port=8123)
    env = child_environment(s)
    assert env["GRIDWALL_REDIS_URL"].startswith("unix://") and env["GRIDWALL_PORT"] == "8123"
    assert env["GRIDWALL_DATABASE_URL"].startswith("sqlite:///")


def test_map_settings_from_file_and_environment(tmp_path: Path):
    s = load_settings(path=None, environ={})
    assert s.map_layer_names == ("districts", "grids", "cases", "alerts", "collectors", "vehicles", "trails")
    assert (s.map_cluster_above, s.map_trail_points, s.map_grids_min_zoom) == (3000, 20, 14)
    cfg = tmp_path / "gridwall.toml"
    cfg.write_text('map_layers = ["cases", "alerts"]\nmap_cluster_above = 500\n')
    s = load_settings(cfg, environ={"GRIDWALL_MAP_TRAIL_POINTS": "5"})
    assert s.map_layer_names == ("cases", "alerts") and s.map_cluster_above == 500 and s.map_trail_points == 5
    assert load_settings(path=None, environ={"GRIDWALL_MAP_LAYERS": " districts , cases "}).map_layer_names == ("districts", "cases")
    assert load_settings(path=None, environ={"GRIDWALL_MAP_LAYERS": ""}).map_layer_names == ()
    with pytest.raises(ValueError, match="unknown layer.*heatmap"):
        load_settings(path=None, environ={"GRIDWALL_MAP_LAYERS": "cases,heatmap"})


def test_feed_quiet_limits() -> None:
    assert Settings().feed_quiet == {"gps": 60.0}
    assert Settings(feed_quiet_s="gps=30, video=900").feed_quiet == {"gps": 30.0, "video": 900.0}
    for bad in ("radar=10", "gps=0", "gps=soon", "gps"):
        with pytest.raises(ValueError, match="feed_quiet_s"):
            Settings(feed_quiet_s=bad)

"""archive.stats and `archive stats`: per period, top entities, engagement per campaign."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from archive.cli import main
from archive.records import ArchivedPost, Link
from archive.stats import compute
from tests.archive_fixtures import seed_tweets, write_x_zip, x_archive_files


def test_compute_counts_in_the_zones_calendar():
    posts = [
        ArchivedPost("x", "1", "a", datetime(2015, 1, 31, 23, 30, tzinfo=timezone.utc), "t", hashtags=("Zelf", "zelf"),
                     links=(Link("https://t.co/a", "https://e.nl"),), metrics={"likes": 2}, campaign_id="tas"),
        ArchivedPost("x", "2", "a", datetime(2015, 2, 2, 10, tzinfo=timezone.utc), "t", hashtags=("ZELF",),
                     mentions=("Leo",), metrics={"likes": 1, "reposts": 4}),
    ]
    stats = compute(posts, zone=ZoneInfo("Europe/Amsterdam"))
    assert dict(stats.per_period) == {"2015-02": 2}  # 23:30 UTC on 31 January is February in Amsterdam
    assert stats.hashtags == {"zelf": 2}
    assert stats.links == {"https://e.nl": 1}
    assert stats.campaigns == {"tas": {"posts": 1, "likes": 2, "reposts": 0, "replies": 0, "quotes": 0},
                               "": {"posts": 1, "likes": 1, "reposts": 4, "replies": 0, "quotes": 0}}
    assert dict(compute(posts, period="week").per_period) == {"2015-W05": 1, "2015-W06": 1}


def test_stats_command_formats(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    runner = CliRunner()
    runner.invoke(main, ["import", str(write_x_zip(tmp_path / "a.zip", x_archive_files(seed_tweets()))), "--db", url])
    data = json.loads(runner.invoke(main, ["stats", "--db", url, "--format", "json"]).stdout)
    assert data["posts"] == 7
    assert data["top_hashtags"][0] == {"hashtag": "zelfstandigeteams", "posts": 2}
    assert {r["period"]: r["posts"] for r in data["per_period"]} == {"2014-12": 1, "2015-01": 6}
    rows = list(csv.reader(io.StringIO(runner.invoke(main, ["stats", "--db", url, "--format", "csv",
                                                             "--by", "week"]).stdout)))
    assert rows[0] == ["section", "key", "value"] and ["total", "posts", "7"] in rows
    table = runner.invoke(main, ["stats", "--db", url, "--kind", "reply"])
    assert table.exit_code == 0 and table.stdout.startswith("1 posts") and "@moniquedenb" in table.stdout

"""``crmsync bench`` on tiny runs: every JSON field is there with sane values, counted by the mocks.

Structure and invariants only (calls add up, percentiles are ordered, the ceiling follows from the
limits, idle writes nothing): never how fast this machine happens to be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from benchmarks.ceiling import ceiling
from benchmarks.harness import Limits, Mocks, is_write, temp_dir
from benchmarks.latency import latencies, percentiles, to_ms
from benchmarks.scenario_initial import run_initial
from benchmarks.scenario_sweep import SweepPoint, SweepResult, plot
from benchmarks.timeline import build, summary_lines

RECORDS = 120


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One lifted-limits run of initial (with its baseline), steady and idle, as a user would run it."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    profiles = out.parent / "profiles"
    cmd = [
        sys.executable, "-m", "engine.cli", "bench", "--scenario", "initial,steady,idle",
        "--limits", "lifted", "--records", str(RECORDS), "--baseline-records", "30",
        "--rate", "20", "--duration", "3", "--idle-seconds", "3", "--idle-poll-interval", "1",
        "--idle-settle", "0",
        "--out", str(out), "--profile", str(profiles), "--profile-format", "raw",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "initial sync" in done.stdout and "steady" in done.stdout and "idle" in done.stdout
    data: dict[str, Any] = json.loads(out.read_text())
    data["profiles_dir"] = str(profiles)
    return data


def _endpoint_sum(by_endpoint: dict[str, int], system: str) -> int:
    return sum(v for k, v in by_endpoint.items() if k.startswith(system + " "))


def test_initial_figures_are_the_mocks_counts(report: dict[str, Any]) -> None:
    [r] = report["initial"]
    mix = r["mix"]
    assert r["regime"] == "lifted" and r["records"] == RECORDS == mix["pairs"]
    assert mix["hubspot_only"] + mix["salesforce_only"] + mix["linked"] == RECORDS
    # Every pair synced: each side created what it lacked, nothing failed.
    assert r["created_hubspot"] == mix["salesforce_only"]
    assert r["created_salesforce"] == mix["hubspot_only"]
    assert r["errors"] == 0
    assert r["calls_hubspot"] == _endpoint_sum(r["by_endpoint"], "hubspot") > 0
    assert r["calls_salesforce"] == _endpoint_sum(r["by_endpoint"], "salesforce") > 0
    assert r["calls_per_record"] == pytest.approx(
        (r["calls_hubspot"] + r["calls_salesforce"]) / RECORDS, abs=1e-3
    )
    assert r["pairs_per_s"] == pytest.approx(RECORDS / r["seconds"], rel=0.05)
    assert r["engine_cpu_s"] > 0 and r["peak_rss_mb"] > 10 and r["state_file_mb"] > 0
    assert r["ceiling"]["pairs_per_s"] is None and r["fraction_of_ceiling"] is None  # nothing limits
    tl = r["timeline"]
    assert sum(s.get("hs_search", 0) + s.get("hs_other", 0) for s in tl["seconds"]) == r["calls_hubspot"]
    assert tl["search_lane_lost_s"] is None  # no search rate to lose against


def test_baseline_beside_crmsync(report: dict[str, Any]) -> None:
    [b] = report["baseline"]
    [c] = report["comparison"]
    assert b["records"] == 30
    # One record at a time: at least a lookup per record on each side, and a create for each missing one.
    assert b["calls_hubspot"] >= b["records"] and b["calls_salesforce"] >= b["records"]
    assert b["created_hubspot"] == b["mix"]["salesforce_only"]
    assert b["created_salesforce"] == b["mix"]["hubspot_only"]
    assert b["calls_hubspot"] + b["calls_salesforce"] == sum(b["by_endpoint"].values())
    assert c["baseline_pairs_per_s"] == b["pairs_per_s"]
    assert c["throughput_ratio"] == pytest.approx(
        c["crmsync_pairs_per_s"] / c["baseline_pairs_per_s"], rel=0.01
    )
    assert c["calls_ratio"] == pytest.approx(b["calls_per_record"] / c["crmsync_calls_per_record"], rel=0.01)
    assert any("baseline ran on 30" in n for n in report["notes"])


def test_steady_latency_from_the_mocks(report: dict[str, Any]) -> None:
    [s] = report["steady"]
    assert s["rate_per_s"] == 20 and s["duration_s"] == 3
    # Each generator performs rate/2 · duration operations, exactly (nothing skipped at this rate).
    assert s["skipped_by_generators"] == 0
    assert {k: sum(v.values()) for k, v in s["changes_by_system"].items()} == {
        "hubspot": 30,
        "salesforce": 30,
    }
    assert s["changes"] == 60 and s["drained"] is True
    assert s["latency"]["unsynced_creates"] == {"hubspot→salesforce": 0, "salesforce→hubspot": 0}
    assert s["idle_calls_per_s"] > 0 and s["engine_cpu_s"] > 0 and s["mocks_cpu_s"] > 0
    calls = s["calls_hubspot"] + s["calls_salesforce"]
    assert calls == sum(s["by_endpoint"].values()) > 0
    assert s["calls_per_change"] == pytest.approx(calls / 60, abs=1e-3)
    lat = s["latency"]["all"]
    assert lat["samples"] == sum(k["samples"] for k in s["latency"]["by_kind"].values()) > 0
    assert 0 <= lat["p50_s"] <= lat["p95_s"] <= lat["p99_s"] <= lat["max_s"]
    assert s["latency"]["by_kind"]["create hubspot→salesforce"]["samples"] > 0
    assert s["latency"]["by_kind"]["create salesforce→hubspot"]["samples"] > 0


def test_idle_polls_and_never_writes(report: dict[str, Any]) -> None:
    [i] = report["idle"]
    assert i["writes"] == 0 and i["write_endpoints"] == []
    assert i["calls_hubspot"] > 0 and i["calls_salesforce"] > 0  # it kept polling both
    per_hour = (i["calls_hubspot"] + i["calls_salesforce"]) * 3600 / i["measured_s"]
    assert i["calls_per_hour"] == pytest.approx(per_hour, rel=0.05)


def test_every_measured_engine_run_is_profiled(report: dict[str, Any]) -> None:
    """``--profile``: one py-spy profile per measured run (not the set-up runs), of the engine."""
    refused = [n for n in report["notes"] if n.startswith("--profile")]
    if refused:
        pytest.skip(f"py-spy cannot profile here: {refused[0]}")
    files = sorted(Path(report["profiles_dir"]).iterdir())
    assert [f.name.split("-")[1] for f in files] == ["initial", "steady", "idle"]
    for f, loop in zip(files, ("run_until_idle", "run_forever", "run_forever"), strict=True):
        stacks = f.read_text()
        assert loop in stacks and "engine/cli.py" in stacks, f.name  # the engine's, not the bench's


def test_report_has_the_machine(report: dict[str, Any]) -> None:
    assert report["machine"]["cpus"] >= 1 and report["options"]["regimes"] == ["lifted"]


async def test_real_limits_measured_against_the_ceiling() -> None:
    with anyio.fail_after(120):
        async with Mocks("real") as mocks:
            with temp_dir() as tmp:
                r = await run_initial(mocks, 90, Path(tmp))
    assert (
        r.ceiling.pairs_per_s
        == ceiling(
            Limits.of("real"), read_share=2 / 3, write_share=1 / 3, linked_share=1 / 3, batch_size=100
        ).pairs_per_s
    )
    assert r.ceiling.pairs_per_s is not None
    assert r.fraction_of_ceiling == pytest.approx(r.pairs_per_s / r.ceiling.pairs_per_s, abs=1e-3)
    assert r.errors == 0 and r.created_hubspot == 30 and r.created_salesforce == 30
    # The timeline holds every call the mocks counted, second by second, and no refusal.
    tl = r.timeline
    assert tl is not None and tl.seconds
    by = r.by_endpoint
    assert tl.searches == by["hubspot POST /crm/v3/objects/{objectType}/search"] > 0
    assert sum(s.hs_search + s.hs_other for s in tl.seconds) == r.calls_hubspot
    assert sum(s.sf for s in tl.seconds) == r.calls_salesforce
    assert sum(s.hs_write for s in tl.seconds) + sum(s.sf_write for s in tl.seconds) == sum(
        v for k, v in by.items() if " refused " not in k and is_write(k.partition(" ")[2])
    )
    assert not any(s.refused for s in tl.seconds) and not any(" refused " in k for k in by)
    assert tl.max_hubspot_per_10s <= Limits.of("real").hubspot_burst_per_10s
    assert tl.first_call_s is not None and tl.last_call_s is not None
    assert 0 <= tl.first_call_s <= (tl.first_search_s or 0) <= (tl.last_search_s or 0) <= tl.end_s


def test_timeline_from_call_logs() -> None:
    search = "POST /crm/v3/objects/{objectType}/search"
    update = "POST /crm/v3/objects/{objectType}/batch/update"
    hubspot = [(100.5, search), (100.7, search), (101.9, search), (102.0, update), (103.2, update)]
    hubspot += [(103.3, "refused ten_secondly"), (99.0, search)]  # before the run: not counted
    salesforce = [(100.6, "GET /services/data/v{version}/query"), (102.5, "PATCH /x/composite/sobjects")]
    tl = build(hubspot, salesforce, start=100.0, end=104.0, search_per_s=5)
    assert [s.at for s in tl.seconds] == [0, 1, 2, 3, 4]
    assert [s.hs_search for s in tl.seconds] == [2, 1, 0, 0, 0]
    assert [s.hs_other for s in tl.seconds] == [0, 0, 1, 1, 0]
    assert [s.sf + s.sf_write for s in tl.seconds] == [1, 0, 2, 0, 0]
    assert [s.refused for s in tl.seconds] == [0, 0, 0, 1, 0]
    assert (tl.first_call_s, tl.first_search_s, tl.last_search_s) == (0.5, 0.5, 1.9)
    assert (tl.last_hubspot_write_s, tl.last_write_s, tl.last_call_s) == (3.2, 3.2, 3.2)
    assert tl.search_gaps == [(0.7, 1.2)]
    assert tl.search_lane_lost_s == pytest.approx(1.4 - 2 / 5)
    assert tl.max_hubspot_per_10s == 5 and tl.max_hubspot_other_per_10s == 2
    assert any("HS search/s" in line for line in summary_lines(tl))


def test_other_commands_do_not_load_the_benchmark() -> None:
    """``crmsync`` builds every parser at start-up: ``bench``'s must not drag in the benchmark, nor
    the baseline's clients, which are an optional extra."""
    code = (
        "import sys\nfrom engine.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n"
        "    pass\nprint([m for m in ('benchmarks.bench', 'requests', 'hubspot') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_ceiling_follows_from_the_limits() -> None:
    # 190 calls / 10 s and 5 searches/s; 2/3 of pairs to read in pages of 200; every pair's HubSpot
    # side written once by 100 (1/3 created, 2/3 given the Salesforce id), and read back.
    c = ceiling(Limits.of("real"), read_share=2 / 3, write_share=1 / 3, batch_size=100)
    searched = 2 / 3 + 1  # read once, plus every write read back
    assert c.search_bound == pytest.approx(5 * 200 / searched, abs=0.1)  # 600 pairs/s
    assert c.burst_bound == pytest.approx(19 / (1 / 100), abs=0.1)  # 1900: searches are not in it
    assert c.pairs_per_s == c.search_bound and c.bound_by == "hubspot search rate"
    assert not c.linked_by_batch_read
    # Read once and create what HubSpot lacks, nothing more: the looser one-off-copy figure.
    assert c.one_pass_pairs_per_s == pytest.approx(5 * 200 / (2 / 3), abs=0.1)  # 1500
    # The linked third found from Salesforce by batch read (a burst call per 100) and written before
    # search reaches it is read once: fewer searches, more burst calls, a higher bound.
    linked = ceiling(
        Limits.of("real"), read_share=2 / 3, write_share=1 / 3, linked_share=1 / 3, batch_size=100
    )
    searched = 2 / 3 + 1 - 1 / 3
    assert linked.search_bound == pytest.approx(5 * 200 / searched, abs=0.1)  # 750 pairs/s
    assert linked.burst_bound == pytest.approx(19 / ((1 + 1 / 3) / 100), abs=0.1)  # 1425
    assert linked.pairs_per_s == linked.search_bound and linked.linked_by_batch_read
    # Small batches make the burst window the bound; HubSpot caps a batch at 100 whatever is asked.
    small = ceiling(Limits.of("real"), read_share=2 / 3, write_share=1 / 3, batch_size=5)
    assert small.bound_by == "hubspot burst window" and small.pairs_per_s == small.burst_bound
    # There, finding linked records by search is the better way: the ceiling keeps it.
    small_linked = ceiling(
        Limits.of("real"), read_share=2 / 3, write_share=1 / 3, linked_share=1 / 3, batch_size=5
    )
    assert small_linked.pairs_per_s == small.pairs_per_s and not small_linked.linked_by_batch_read
    assert ceiling(Limits.of("real"), read_share=1, write_share=1, batch_size=500).batch_size == 100
    lifted = ceiling(Limits.of("lifted"), read_share=1, write_share=1, batch_size=100)
    assert lifted.pairs_per_s is None and lifted.one_pass_pairs_per_s is None


def test_writes_are_told_from_reads() -> None:
    assert not is_write("POST /crm/v3/objects/{objectType}/search")
    assert not is_write("POST /crm/v3/objects/{objectType}/batch/read")
    assert not is_write("GET /services/data/v{version}/query")
    assert not is_write("POST /services/data/v{version}/composite")  # the engine's: reads only
    assert is_write("POST /crm/v3/objects/{objectType}/batch/upsert")
    assert is_write("PATCH /services/data/v{version}/composite/sobjects")
    assert is_write("DELETE /crm/v3/objects/{objectType}/{objectId}")


def test_latency_samples_from_stamps() -> None:
    start = to_ms("2026-01-01T00:00:10.000Z")
    hs: list[dict[str, Any]] = [
        {"id": "1", "createdAt": "2026-01-01T00:00:11.200Z", "updatedAt": "2026-01-01T00:00:11.200Z"},
        {"id": "2", "createdAt": "2026-01-01T00:00:14.000Z", "updatedAt": "2026-01-01T00:00:14.000Z"},
        {"id": "3", "createdAt": "2026-01-01T00:00:01.000Z", "updatedAt": "2026-01-01T00:00:20.100Z"},
        {"id": "4", "createdAt": "2026-01-01T00:00:01.000Z", "updatedAt": "2026-01-01T00:00:30.000Z"},
        # Generated after the start and never synced: a backlog, not a sample.
        {"id": "5", "createdAt": "2026-01-01T00:00:15.000Z", "updatedAt": "2026-01-01T00:00:15.000Z"},
        # Made by the engine from Contact f, whose HubSpot_Id__c is not written yet: synced.
        {"id": "6", "createdAt": "2026-01-01T00:00:19.000Z", "updatedAt": "2026-01-01T00:00:19.000Z",
         "properties": {"salesforcecontactid": "f"}},
    ]  # fmt: skip
    sf = [
        # HubSpot 1 created at 11.2, its Contact by the API user in second 13: 13.5 - 11.2.
        _sf("a", "13", "13", "api", "api", "1"),
        # A generated Contact (second 12) the engine created in HubSpot at 14.0: 14.0 - 12.5.
        _sf("b", "12", "12", "gen", "gen", "2"),
        # An old pair HubSpot changed at 20.1, the engine wrote in second 22: 22.5 - 20.1.
        _sf("c", "01", "22", "gen", "api", "3"),
        # An old pair whose last write was the generator's: not attributable, no sample.
        _sf("d", "01", "25", "gen", "gen", "4"),
        _sf("e", "16", "16", "gen", "gen", ""),  # generated, never synced
        _sf("f", "17", "17", "gen", "gen", ""),
    ]
    lat = latencies(hs, sf, start_ms=start, other_user="gen")
    by = {k: v.samples for k, v in lat.by_kind.items()}
    assert by == {
        "create hubspot→salesforce": 1,
        "create salesforce→hubspot": 1,
        "update hubspot→salesforce": 1,
    }
    assert lat.by_kind["create hubspot→salesforce"].p50_s == pytest.approx(2.3)
    assert lat.by_kind["create salesforce→hubspot"].p50_s == pytest.approx(1.5)
    assert lat.by_kind["update hubspot→salesforce"].p50_s == pytest.approx(2.4)
    assert lat.unsynced_creates == {"hubspot→salesforce": 1, "salesforce→hubspot": 1}
    p = percentiles(range(1, 101))
    assert (p.p50_s, p.p95_s, p.p99_s, p.max_s) == (50, 95, 99, 100)


def test_a_pair_made_again_after_a_delete_is_no_create_sample() -> None:
    """HubSpot 1's first Contact (a) was deleted; an edit at 40 made the engine create b: measuring
    b from HubSpot 1's creation would count 28 s of a pair that was in sync meanwhile."""
    start = to_ms("2026-01-01T00:00:10.000Z")
    hs: list[dict[str, Any]] = [
        {"id": "1", "createdAt": "2026-01-01T00:00:11.200Z", "updatedAt": "2026-01-01T00:00:40.000Z"},
        # Made from generated Contact c, archived by the generator, made again from c's next edit.
        {"id": "2", "createdAt": "2026-01-01T00:00:13.000Z", "updatedAt": "2026-01-01T00:00:13.000Z",
         "archived": True, "properties": {"salesforcecontactid": "c"}},
        {"id": "3", "createdAt": "2026-01-01T00:00:45.000Z", "updatedAt": "2026-01-01T00:00:45.000Z",
         "properties": {"salesforcecontactid": "c"}},
    ]  # fmt: skip
    deleted = {**_sf("a", "12", "30", "api", "gen", "1"), "IsDeleted": True}
    sf = [deleted, _sf("b", "41", "41", "api", "api", "1"), _sf("c", "12", "44", "gen", "gen", "3")]
    lat = latencies(hs, sf, start_ms=start, other_user="gen")
    assert lat.all.samples == 0
    assert lat.recreated == {"create hubspot→salesforce": 1, "create salesforce→hubspot": 1}
    assert lat.unsynced_creates == {"hubspot→salesforce": 0, "salesforce→hubspot": 0}
    # Without the deleted first counterpart, b is a sample (of 29.8 s).
    assert (
        latencies(hs, sf[1:], start_ms=start, other_user="gen").by_kind["create hubspot→salesforce"].samples
        == 1
    )


def _sf(sid: str, created: str, modified: str, by: str, last_by: str, hs_id: str) -> dict[str, Any]:
    return {
        "Id": sid,
        "CreatedDate": f"2026-01-01T00:00:{created}.000+0000",
        "LastModifiedDate": f"2026-01-01T00:00:{modified}.000+0000",
        "CreatedById": by,
        "LastModifiedById": last_by,
        "HubSpot_Id__c": hs_id,
        "IsDeleted": False,
    }


def test_sweep_plot_or_how_to_get_it(tmp_path: Path) -> None:
    points = [
        SweepPoint(
            knob="CRMSYNC_BATCH_SIZE", value=v, settings={"CRMSYNC_BATCH_SIZE": v}, pairs_per_s=10.0 * v,
            calls_per_record=1 / v, engine_cpu_s_per_1000=1.0, steady_p50_s=0.5, steady_p95_s=1.0,
            steady_p99_s=1.5, steady_calls_per_change=1.0, steady_drained=True,
        )
        for v in (10, 100)
    ]  # fmt: skip
    sweep = SweepResult(regime="lifted", records=10, rate_per_s=10, duration_s=1, points=points)
    png = tmp_path / "sweep.png"
    problem = plot([sweep], png)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert problem is not None and "pip install 'crmsync[bench]'" in problem and not png.exists()
    else:
        assert problem is None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

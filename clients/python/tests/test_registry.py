"""Listings over keyset pages, search, aliases, stages, tags, history, transition requests and deployments."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest

import berth
from conftest import Server, write


def push_versions(client: berth.Client, model: str, tmp_path: Path, count: int, **kwargs: object) -> List[berth.Version]:
    result = []
    for i in range(count):
        path = write(tmp_path / f"v{i}" / "w.bin", f"{model} version {i}".encode())
        result.append(client.push(str(path.parent), model, progress=False, **kwargs).version)  # type: ignore[arg-type]
    return result


def test_listings_walk_every_page_lazily(client: berth.Client, ns: str, tmp_path: Path) -> None:
    pushed = push_versions(client, f"{ns}/fraud", tmp_path, 7)
    calls: List[str] = []
    original = client._http.call

    def counting(method: str, path: str, **kwargs: object) -> object:
        calls.append(path)
        return original(method, path, **kwargs)

    client._http.call = counting  # type: ignore[method-assign]
    versions = client.list_versions(f"{ns}/fraud", page_size=3)
    assert calls == []  # nothing is fetched before the first item is asked for
    assert [v.number for v in versions] == [v.number for v in reversed(pushed)]
    assert len(calls) == 3  # 3 + 3 + 1

    for i in range(4):
        client.push(str(write(tmp_path / f"m{i}" / "w.bin", b"m")), f"{ns}/model-{i}", progress=False)
    calls.clear()
    names = [m.name for m in client.list_models(ns, page_size=2)]
    assert sorted(names) == ["fraud", "model-0", "model-1", "model-2", "model-3"] and len(set(names)) == 5
    assert len(calls) == 3


def test_search_filters_and_sorts_over_pages(client: berth.Client, ns: str, tmp_path: Path) -> None:
    for i, auc in enumerate([0.81, 0.95, 0.88, 0.92, 0.70]):
        client.push(str(write(tmp_path / f"s{i}" / "w.bin", f"search {i}".encode())), f"{ns}/fraud",
                    metrics={"auc": auc}, tags={"team": "risk" if i % 2 == 0 else "growth"}, progress=False)
    found = list(client.search(f"namespace = '{ns}' and metrics.auc >= 0.8", sort="-metrics.auc", page_size=2))
    assert [v.metrics["auc"] for v in found] == [0.95, 0.92, 0.88, 0.81]
    risk = list(client.search(f"namespace = '{ns}' and tags.team = 'risk'", page_size=1))
    assert sorted(v.number for v in risk) == [1, 3, 5]
    with pytest.raises(berth.BadRequest) as raised:
        next(client.search("metrics.auc >>> 1"))
    assert raised.value.code == "invalid_filter" and "position" in raised.value.extensions


def test_aliases_stages_and_tags(client: berth.Client, ns: str, tmp_path: Path) -> None:
    first, second = push_versions(client, f"{ns}/fraud", tmp_path, 2)
    moved = client.set_alias(f"{ns}/fraud", "champion", first.number)
    assert moved.outcome == "applied" and moved.alias is not None and moved.alias.version == first.number
    client.set_alias(f"{ns}/fraud", "champion", "latest")
    assert [(a.name, a.version) for a in client.list_aliases(f"{ns}/fraud")] == [("champion", second.number)]
    assert client.get_model(f"{ns}/fraud").aliases == {"champion": second.number}
    client.remove_alias(f"{ns}/fraud", "champion")
    assert client.list_aliases(f"{ns}/fraud") == []
    with pytest.raises(berth.NotFound) as missing:
        client.get_version(f"{ns}/fraud:champion")
    assert missing.value.code in ("alias_not_found", "version_not_found")

    staged = client.set_stage(first.reference, "staging", comment="looks good")
    assert staged.outcome == "applied" and staged.version.stage == "staging"
    assert client.set_stage(first.reference, "staging").outcome == "unchanged"
    with pytest.raises(berth.BadRequest) as invalid:
        client.set_stage(first.reference, "nowhere")
    assert invalid.value.code == "invalid_stage"

    tagged = client.tag(first.reference, {"validated": True, "owner": "ml"}, description="checked")
    assert tagged.tags == {"validated": "True", "owner": "ml"} and tagged.description == "checked"
    assert client.tag(first.reference, remove=["owner"]).tags == {"validated": "True"}
    assert client.tag_model(f"{ns}/fraud", {"team": "risk"}).tags == {"team": "risk"}


def test_history_and_time_travel(client: berth.Client, ns: str, tmp_path: Path) -> None:
    first, second = push_versions(client, f"{ns}/fraud", tmp_path, 2)
    client.set_stage(first.reference, "production", comment="first release")
    time.sleep(1.1)
    between = datetime.now(timezone.utc)
    time.sleep(1.1)
    client.set_stage(second.reference, "production", comment="second release")
    stage_entries = list(client.history(f"{ns}/fraud", kind="stage"))
    production = [(e.version, e.to_stage, e.comment) for e in stage_entries if e.to_stage == "production"]
    assert production == [(first.number, "production", "first release"), (second.number, "production", "second release")]
    assert client.history(f"{ns}/fraud", stage="production", at=between).versions == [first.number]
    assert client.history(f"{ns}/fraud", stage="production", at=datetime.now(timezone.utc) + timedelta(seconds=1)).versions == [first.number, second.number]
    earlier = (between - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.history(f"{ns}/fraud", stage="production", at=earlier).versions == []


def test_transition_requests_are_approved_or_rejected_by_another_user(server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    first, second = push_versions(client, f"{ns}/fraud", tmp_path, 2)
    bob = "bob" + ns
    client._http.call("POST", "users", json_body={"name": bob})
    token = client._http.call("POST", "tokens", json_body={"name": "approvals", "user": bob, "scopes": ["write"]})["token"]
    client._http.call("PUT", f"namespaces/{ns}/members", json_body={"role": "approver", "user": bob})
    client._http.call("PUT", f"namespaces/{ns}/policy/stages/production", json_body={"requiredApprovals": 1})

    asked = client.request_stage(first.reference, "production", comment="Q3 recall")
    assert asked.outcome == "requested" and asked.request is not None
    assert asked.request.state == "open" and asked.version.stage != "production"
    assert [r.id for r in client.list_requests(ns)] == [asked.request.id]
    with pytest.raises(berth.Forbidden) as own:
        client.approve(asked.request.id)
    assert own.value.code == "self_approval"

    with berth.Client(server.url, token=token) as approver:
        approved = approver.approve(asked.request.id, "numbers checked")
        assert approved.state == "applied" and [r.decision for r in approved.reviews] == ["approve"]
        assert client.get_version(f"{ns}/fraud:production").number == first.number

        asked_again = client.set_stage(second.reference, "production")
        assert asked_again.request is not None
        rejected = approver.reject(asked_again.request.id, "recall dropped")
        assert rejected.state == "rejected"
        with pytest.raises(berth.Conflict) as closed:
            approver.approve(asked_again.request.id)
        assert closed.value.code == "request_closed"
    assert client.get_request(asked_again.request.id).state == "rejected"
    assert client.get_version(f"{ns}/fraud:production").number == first.number
    withdrawn = client.set_stage(second.reference, "production")
    assert withdrawn.request is not None and client.cancel_request(withdrawn.request.id).state == "cancelled"


def test_deployments_are_recorded_and_listed(client: berth.Client, ns: str, tmp_path: Path) -> None:
    first, second = push_versions(client, f"{ns}/fraud", tmp_path, 2)
    client.record_deployment(first.reference, "prod-eu", "live", endpoint="https://scoring.example")
    record = client.record_deployment(second.reference, "prod-eu", "deploying", comment="canary")
    assert (record.version, record.environment, record.status, record.comment) == (second.number, "prod-eu", "deploying", "canary")
    history = [(d.version, d.status) for d in client.list_deployments(f"{ns}/fraud", environment="prod-eu")]
    assert history[0] == (second.number, "deploying") and (first.number, "retired") in history and (first.number, "live") in history
    assert [d.status for d in client.list_deployments(f"{ns}/fraud", version=first.number)][-1] == "live"
    state = client.get_version(second.reference).deployments
    assert state is not None and [(s.environment, s.status) for s in state] == [("prod-eu", "deploying")]
    with pytest.raises(berth.BadRequest) as invalid:
        client.record_deployment(first.reference, "prod-eu", "exploded")
    assert invalid.value.code == "invalid_deployment"


def test_namespaces_and_whoami(client: berth.Client, ns: str) -> None:
    created = client.create_namespace(ns, "made by the Python tests")
    assert created.name == ns and "production" in created.stages
    assert ns in [n.name for n in client.list_namespaces(page_size=2)]
    with pytest.raises(berth.Conflict) as exists:
        client.create_namespace(ns)
    assert exists.value.code == "namespace_exists"
    me = client.whoami()
    assert me.name == "admin" and not me.anonymous and me.token is not None


def test_delete_version(client: berth.Client, ns: str, tmp_path: Path) -> None:
    first, second = push_versions(client, f"{ns}/fraud", tmp_path, 2)
    assert client.delete_version(first.reference).state == "deleted"
    assert [v.number for v in client.list_versions(f"{ns}/fraud")] == [second.number]
    assert [v.state for v in client.list_versions(f"{ns}/fraud", all_states=True)] == ["ready", "deleted"]
    with pytest.raises(berth.Gone) as gone:
        client.get_version(first.reference)
    assert gone.value.code == "version_deleted"


def test_evaluate_adds_effective_metrics_that_search_sees_and_keeps_the_pushed_ones(client: berth.Client, ns: str, tmp_path: Path) -> None:
    client.push(str(write(tmp_path / "e" / "w.bin", b"evaluated")), f"{ns}/fraud", metrics={"auc": 0.91}, progress=False)
    evaluation = client.evaluate(f"{ns}/fraud:1", {"auc": 0.95, "recall": 0.7}, dataset="holdout-2026-11", note="nightly")
    assert evaluation["metrics"] == {"auc": 0.95, "recall": 0.7} and evaluation["dataset"] == "holdout-2026-11"
    version = client.get_version(f"{ns}/fraud:1")
    assert version.metrics == {"auc": 0.95, "recall": 0.7}
    assert version.raw["evaluatedMetrics"]["auc"]["pushed"] == 0.91
    assert [v.number for v in client.search(f"namespace = '{ns}' and metrics.auc > 0.93")] == [1]
    with pytest.raises(berth.BadRequest) as raised:
        client.evaluate(f"{ns}/fraud:1", {"bad key!": 1.0})
    assert raised.value.code == "invalid_metadata"
    with pytest.raises(berth.NotFound) as missing:
        client.evaluate(f"{ns}/fraud:9", {"auc": 0.9})
    assert missing.value.code == "version_not_found"

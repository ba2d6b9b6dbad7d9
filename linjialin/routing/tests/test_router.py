"""The category router: keyword rules, training and versions, suggestions, the nightly task."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from linjialin.core import beat
from linjialin.core.models import AuditEvent
from linjialin.routing import ml, selectors, services
from linjialin.routing.models import KeywordRule, ModelVersion, RoutingRules
from linjialin.routing.tasks import retrain_router
from linjialin.service_requests.models import Category, HandlingLevel, RequestEvent, State

from .conftest import make_request


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- keyword rules (seeded) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("楼道灯坏了", "corridor-light"),
        ("我们单元的声控灯不亮", "corridor-light"),
        ("小区门口的路灯不亮", "municipal-streetlight"),
        ("ＬＥＤ路灯坏了", "municipal-streetlight"),  # full-width is normalised
        ("楼上装修噪音太大", "noise-renovation"),
        ("有人在楼道里飞线充电", "charging-wires"),
    ],
)
def test_seeded_keyword_rules_suggest_from_day_one(db, text, code):
    assert not ModelVersion.objects.exists()
    suggestions = selectors.suggest(text)
    assert suggestions[0].code == code
    assert suggestions[0].source == "rules"
    assert 0 < suggestions[0].confidence <= 1


def test_every_concrete_problem_of_the_taxonomy_has_a_seeded_rule(db):
    subs = set(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    ruled = set(KeywordRule.objects.values_list("category__code", flat=True))
    assert subs - ruled == set()


def test_suggestions_are_ordered_limited_and_carry_level_and_unit(db):
    # matches corridor-light (楼道灯), municipal-streetlight (路灯) and noise-renovation (装修) …
    text = "楼道灯和路灯都坏了,楼上还在装修,电梯也停了"
    suggestions = selectors.suggest(text)
    assert len(suggestions) == 3
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert len({s.code for s in suggestions}) == 3
    light = Category.objects.get(code="corridor-light")
    first = next(s for s in suggestions if s.code == "corridor-light")
    assert first.level == light.level and first.level_label == str(HandlingLevel(light.level).label)
    assert selectors.suggest(text, limit=1)[0].code == suggestions[0].code


def test_longer_keyword_counts_more(db):
    # 路灯 (2 chars) in both; 楼道灯 (3) only for corridor-light
    assert selectors.suggest("楼道灯")[0].code == "corridor-light"


def test_nothing_to_suggest(db):
    assert selectors.suggest("") == []
    assert selectors.suggest("   ") == []
    assert selectors.suggest("今天天气不错") == []


def test_an_edited_rule_and_an_inactive_category_take_effect(db):
    rule = KeywordRule.objects.get(category__code="greening-trees")
    rule.keywords += "\n梧桐"
    rule.save()
    assert selectors.suggest("门口的梧桐挡住窗户")[0].code == "greening-trees"
    Category.objects.filter(code="greening-trees").update(active=False)
    assert all(s.code != "greening-trees" for s in selectors.suggest("门口的梧桐挡住窗户"))


# --- training and versions -----------------------------------------------------------------------
def test_too_little_history_trains_nothing(tree):
    make_request(tree.entrance_a, "楼道灯坏了", "corridor-light")
    result = services.train_from_history(None)
    assert result.version is None and not result.promoted
    assert "Not enough handled history" in result.message
    assert not ModelVersion.objects.exists()
    assert not AuditEvent.objects.filter(action="routing.train").exists()


def test_history_trains_a_current_version_that_suggest_uses(history, tree):
    # requests never handled and diverted ones teach nothing
    make_request(tree.entrance_a, "不相干的文字", "corridor-light", state=State.SUBMITTED)
    result = services.train_from_history(None)
    version = result.version
    assert result.promoted and version.current
    assert version.trained_on == 60 and version.heldout_n == 12
    assert set(version.labels) == {"corridor-light", "municipal-streetlight", "noise-renovation"}
    assert 0 <= version.accuracy <= 1 and version.report["n"] == 12
    event = AuditEvent.objects.get(action="routing.train", object_id=str(version.pk))
    assert event.after["current"] is True and event.after["trained_on"] == 60
    # a text without any keyword: only the model knows
    suggestions = selectors.suggest("晚上上楼梯黑乎乎的看不见")
    assert suggestions[0].code == "corridor-light"
    assert suggestions[0].source in ("model", "both")


def test_a_worse_model_does_not_replace_a_better_one(history):
    first = services.train_from_history(None).version
    ModelVersion.objects.filter(pk=first.pk).update(accuracy=1.01)  # an unbeatable current model
    second = services.train_from_history(None)
    assert second.version is not None and not second.promoted
    assert "kept but not used" in second.message
    first.refresh_from_db()
    assert first.current and not second.version.current
    assert selectors.current_version_id() == first.pk
    assert ModelVersion.objects.filter(current=True).count() == 1


def test_an_equally_good_model_replaces_the_current_one(history):
    first = services.train_from_history(None).version
    ModelVersion.objects.filter(pk=first.pk).update(accuracy=0.0)
    second = services.train_from_history(None)
    assert second.promoted
    first.refresh_from_db()
    assert not first.current and second.version.current
    # the process reloads the new current model
    assert selectors.current_classifier().labels == second.version.labels


def test_dispatcher_corrections_are_labels_and_weigh_more(history, tree):
    req = make_request(tree.entrance_a, "门口黑灯瞎火", "municipal-streetlight", state=State.SUBMITTED)
    RequestEvent.objects.create(
        request=req,
        kind="recategorise",
        at=req.submitted_at,
        data={"from_category": "corridor-light", "to_category": "municipal-streetlight"},
    )
    texts, labels, corrected = services.history_examples()
    i = texts.index("门口黑灯瞎火")
    assert labels[i] == "municipal-streetlight" and corrected[i] is True
    assert sum(corrected) == 1


def test_only_dispatchers_and_admins_retrain(history, resident_a, subdistrict_dispatcher):
    with pytest.raises(PermissionDenied):
        services.train_from_history(resident_a)
    assert not ModelVersion.objects.exists()
    assert services.train_from_history(subdistrict_dispatcher).version.created_by == subdistrict_dispatcher


def test_a_file_with_another_taxonomy_is_kept_but_never_used(history):
    texts = [
        "社保转移手续太麻烦",
        "医保报销比例",
        "学校收费不合理",
        "学生补课收费",
        "公交线路调整",
        "出租车拒载",
    ] * 3
    labels = ["劳动和社会保障", "劳动和社会保障", "教育文体", "教育文体", "交通运输", "交通运输"] * 3
    result = services.train_from_rows(None, texts, labels)
    assert result.version.source == "file" and not result.promoted and not result.version.current
    assert "not used for suggestions" in result.version.note
    assert selectors.current_version_id() is None


def test_a_file_labelled_with_category_names_may_serve(db):
    texts = ["楼道灯坏了", "声控灯不亮", "楼梯灯坏", "路灯不亮", "马路灯坏了", "路口灯杆黑"] * 3
    labels = ["楼道灯不亮"] * 3 + ["municipal-streetlight"] * 3
    result = services.train_from_rows(None, texts, labels * 3)
    assert result.promoted and set(result.version.labels) == {"corridor-light", "municipal-streetlight"}


def test_serialised_model_round_trips():
    clf = ml.Classifier.fit(["楼道灯坏了", "声控灯不亮", "路灯不亮", "马路灯坏了"], ["a", "a", "b", "b"])
    again = ml.Classifier.loads(clf.dumps())
    assert again.top("楼道灯", 2)[0][0] == clf.top("楼道灯", 2)[0][0] == "a"
    assert sum(c for _l, c in again.top("路灯", 2)) == pytest.approx(1.0)


def test_evaluate_counts():
    report = ml.evaluate(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert report.accuracy == 0.75
    assert report.per_class["a"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(0.6667),
        "support": 2,
    }
    assert report.confusion == [[1, 1], [0, 2]]
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_settings_are_data(history):
    RoutingRules.objects.update(min_training_requests=1000)
    assert services.train_from_history(None).version is None
    RoutingRules.objects.update(min_training_requests=10, suggestions=1)
    services.train_from_history(None)
    assert len(selectors.suggest("楼道灯和路灯都坏了")) == 1


# --- the nightly task ----------------------------------------------------------------------------
def test_nightly_retraining_is_registered_and_runs(history):
    job = beat.JOBS["routing_retrain"]
    assert job.task is retrain_router and job.cron == "40 1 * * *"
    outcome = retrain_router.call()
    assert outcome["promoted"] is True and outcome["version"] == selectors.current_version_id()

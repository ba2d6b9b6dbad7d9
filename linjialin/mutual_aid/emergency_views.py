"""Emergency mode pages: the list of episodes (start one; active and archived), an episode (banner, team,
tasks by entrance with claim / finish for members, add tasks, end) and its coverage board (phone-first).

Who: see emergency_selectors (staff running it, the team, the community's volunteers while active);
anyone else 404. The list page to someone who may see no episode and start none: 403. Writes:
services/emergency.py; views only parse and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.accounts.models import User
from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.notifications.services import mark_subject_read, subject_of
from linjialin.places.models import Compound, Level, Place

from . import emergency_selectors as selectors
from .models import EpisodeKind, EpisodeState, TaskKind, TaskState, TeamRole
from .services import emergency as services

_SELECT = {"class": "form-select"}
_TEXT = {"class": "form-control"}


class StartForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=None, widget=forms.Select(_SELECT)
    )
    compound = forms.ModelChoiceField(
        label=gettext_lazy("Only one compound"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("the whole community"),
        widget=forms.Select(_SELECT),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=EpisodeKind.choices, widget=forms.Select(_SELECT)
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100, widget=forms.TextInput(_TEXT))
    banner = forms.CharField(
        label=gettext_lazy("Banner text residents will see"),
        max_length=300,
        widget=forms.Textarea({**_TEXT, "rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_for(user, services.EMERGENCY)
        communities = Place.objects.filter(scope.q(), level=Level.COMMUNITY).order_by("path")
        self.fields["community"].queryset = communities
        self.fields["compound"].queryset = Compound.objects.filter(community__in=communities).order_by("name")
        if communities.count() == 1:
            self.fields["community"].initial = communities.first()


class EndForm(forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("Summary (what was done, what is left)"),
        widget=forms.Textarea({**_TEXT, "rows": 3}),
    )


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Person"), queryset=User.objects.none(), widget=forms.Select(_SELECT)
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role in the team"),
        choices=TeamRole.choices,
        initial=TeamRole.VOLUNTEER,
        widget=forms.Select(_SELECT),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(pk__in=[u.pk for u in candidates]).order_by(
            "display_name"
        )
        self.fields["user"].label_from_instance = lambda u: u.display_name


class TasksForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Task"), choices=TaskKind.choices, widget=forms.Select(_SELECT)
    )
    entrances = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Entrances (none chosen: all)"),
        queryset=Place.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the team"), max_length=300, required=False, widget=forms.TextInput(_TEXT)
    )

    def __init__(self, *args, entrances, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entrances"].queryset = Place.objects.filter(pk__in=[e.pk for e in entrances]).order_by(
            "path"
        )
        self.fields["entrances"].label_from_instance = lambda e: e.name


class FinishForm(forms.Form):
    result = forms.CharField(
        label=gettext_lazy("What was done or found"), max_length=500, widget=forms.TextInput(_TEXT)
    )


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


# --- the list of episodes ----------------------------------------------------------------------------------
@login_required
def emergency(request):
    user = request.user
    may_start = not scope_for(user, services.EMERGENCY).is_empty
    episodes = list(selectors.list_episodes_for_user(user)[:200])
    if not may_start and not episodes:
        raise PermissionDenied
    form = StartForm(request.POST or None, user=user) if may_start else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                episode = services.start_episode(
                    user,
                    community=d["community"],
                    compound=d["compound"],
                    kind=d["kind"],
                    title=d["title"],
                    banner=d["banner"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            except Conflict as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Emergency mode is on."))
                return redirect("mutual_aid:episode", episode_id=episode.pk)
    context = {
        "form": form,
        "active": [e for e in episodes if e.state == EpisodeState.ACTIVE],
        "archived": [e for e in episodes if e.state == EpisodeState.ARCHIVED],
    }
    status = 422 if form is not None and form.errors else 200
    return render(request, "mutual_aid/emergency/list.html", context, status=status)


# --- one episode -------------------------------------------------------------------------------------------
def _render_episode(request, episode, *, bound: dict | None = None, status=200):
    user = request.user
    runs = services.may_run(user, episode)
    active = episode.state == EpisodeState.ACTIVE
    member = selectors.is_member(user, episode.pk)
    groups = selectors.tasks_by_entrance(episode)
    for g in groups:
        for t in g.tasks:
            t.may_claim = active and member and t.state == TaskState.OPEN
            t.may_finish = active and t.state == TaskState.CLAIMED and (t.claimed_by_id == user.pk or runs)
            t.finish_form = FinishForm(prefix=f"finish-{t.pk}")
            if bound and bound.get("task") == t.pk:
                t.finish_form = bound["form"]
    bound = bound or {}
    context = {
        "episode": episode,
        "runs": runs and active,
        "active": active,
        "member": member,
        "may_join": active and not member and selectors.is_volunteer(user, episode),
        "team": selectors.team_of(episode),
        "groups": groups,
        "counts": selectors.task_counts(episode),
        "end_form": bound.get("end_form") or EndForm(),
        "member_form": (bound.get("member_form") or MemberForm(candidates=selectors.candidates_for(episode)))
        if runs and active
        else None,
        "tasks_form": (bound.get("tasks_form") or TasksForm(entrances=selectors.area_entrances(episode)))
        if runs and active
        else None,
        "states": TaskState,
    }
    return render(request, "mutual_aid/emergency/episode.html", context, status=status)


@login_required
def episode(request, episode_id):
    episode = selectors.get_episode_for_user(request.user, episode_id)
    mark_subject_read(request.user, subject_of(episode))  # opening it reads the viewer's notices about it
    return _render_episode(request, episode)


def _back(episode):
    return redirect("mutual_aid:episode", episode_id=episode.pk)


def _run(request, episode, key, form, call, done):
    """One posted staff form: bad input → the page with the form's errors (422)."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        except (Conflict, TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
            return _back(episode)
        else:
            messages.success(request, done)
            return _back(episode)
    return _render_episode(request, episode, bound={key: form}, status=422)


def _staff_episode(request, episode_id):
    episode = selectors.get_episode_for_user(request.user, episode_id)
    if not services.may_run(request.user, episode):
        raise PermissionDenied
    return episode


@login_required
@require_POST
def episode_end(request, episode_id):
    episode = _staff_episode(request, episode_id)
    return _run(
        request,
        episode,
        "end_form",
        EndForm(request.POST),
        lambda d: services.end_episode(request.user, episode, summary=d["summary"]),
        _("Emergency mode is off; the episode is archived."),
    )


@login_required
@require_POST
def episode_member(request, episode_id):
    episode = _staff_episode(request, episode_id)
    form = MemberForm(request.POST, candidates=selectors.candidates_for(episode))
    return _run(
        request,
        episode,
        "member_form",
        form,
        lambda d: services.add_member(request.user, episode, user=d["user"], role=d["role"]),
        _("Added to the team."),
    )


@login_required
@require_POST
def episode_tasks(request, episode_id):
    episode = _staff_episode(request, episode_id)
    form = TasksForm(request.POST, entrances=selectors.area_entrances(episode))

    def call(d):
        created = services.create_tasks(
            request.user, episode, kind=d["kind"], entrances=list(d["entrances"]) or None, note=d["note"]
        )
        call.created = len(created)

    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        except (Conflict, TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
            return _back(episode)
        else:
            messages.success(request, _("%(n)s tasks added.") % {"n": call.created})
            return _back(episode)
    return _render_episode(request, episode, bound={"tasks_form": form}, status=422)


@login_required
@require_POST
def episode_join(request, episode_id):
    episode = selectors.get_episode_for_user(request.user, episode_id)
    try:
        services.join(request.user, episode)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You are on the team: claim a task below."))
    return _back(episode)


def _task(request, episode_id, task_id):
    episode = selectors.get_episode_for_user(request.user, episode_id)
    return episode, selectors.get_task_for_user(request.user, episode, task_id)


@login_required
@require_POST
def task_claim(request, episode_id, task_id):
    episode, task = _task(request, episode_id, task_id)
    try:
        services.claim_task(request.user, task)
    except (Conflict, TransitionNotAllowed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The task is yours."))
    return _back(episode)


@login_required
@require_POST
def task_release(request, episode_id, task_id):
    episode, task = _task(request, episode_id, task_id)
    try:
        services.release_task(request.user, task)
    except (Conflict, TransitionNotAllowed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The task is open again."))
    return _back(episode)


@login_required
@require_POST
def task_finish(request, episode_id, task_id):
    episode, task = _task(request, episode_id, task_id)
    form = FinishForm(request.POST, prefix=f"finish-{task.pk}")
    if form.is_valid():
        try:
            services.finish_task(request.user, task, result=form.cleaned_data["result"])
        except ValidationError as exc:
            _errors(form, exc)
        except (Conflict, TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
            return _back(episode)
        else:
            messages.success(request, _("Task done."))
            return _back(episode)
    if task.state != TaskState.CLAIMED or not (
        task.claimed_by_id == request.user.pk or services.may_run(request.user, episode)
    ):
        raise PermissionDenied
    return _render_episode(request, episode, bound={"task": task.pk, "form": form}, status=422)


# --- the coverage board ------------------------------------------------------------------------------------
@login_required
def coverage(request, episode_id):
    episode = selectors.get_episode_for_user(request.user, episode_id)
    context = {"episode": episode, "c": selectors.coverage(episode), "states": TaskState}
    return render(request, "mutual_aid/emergency/coverage.html", context)


urlpatterns = [
    path("emergency/", emergency, name="emergency"),
    path("emergency/<int:episode_id>/", episode, name="episode"),
    path("emergency/<int:episode_id>/coverage/", coverage, name="coverage"),
    path("emergency/<int:episode_id>/end/", episode_end, name="episode_end"),
    path("emergency/<int:episode_id>/members/", episode_member, name="episode_member"),
    path("emergency/<int:episode_id>/join/", episode_join, name="episode_join"),
    path("emergency/<int:episode_id>/tasks/", episode_tasks, name="episode_tasks"),
    path("emergency/<int:episode_id>/tasks/<int:task_id>/claim/", task_claim, name="emergency_task_claim"),
    path(
        "emergency/<int:episode_id>/tasks/<int:task_id>/release/", task_release, name="emergency_task_release"
    ),
    path("emergency/<int:episode_id>/tasks/<int:task_id>/finish/", task_finish, name="emergency_task_finish"),
]

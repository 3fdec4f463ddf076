"""The Plan screen: what the next sync would copy, delete and rename, and "run for real".

    PlanScreen(job, job_args)         computes the plan itself (a thread worker running
                                      tui.ops.planner.compute_plan: pre-flight, source guards,
                                      job lock, dry run), then shows it
    PlanScreen(job, job_args, plan)   shows a plan computed elsewhere

`/` searches the Copy, Delete and Rename lists (n/N, `3/12`), switching to the tab of the
match. It dismisses with the `Launched` runner when the operator starts the real sync (key `r`),
else with None. The real sync is `space-mirror run --allow-deletes N` with N = the plan's
deletes, so it can never delete more than the plan showed (rclone stops at N, exit 7).
A plan whose deletes exceed the delete guard asks the operator to type the job's name first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, Tree
from textual.widgets.tree import TreeNode

from tui.app import keys as K
from tui.app.keys import Key
from tui.app.screens.base import KeyedScreen
from tui.app.screens.logscreen import SEARCH_ID, search_box
from tui.app.styles import css_path
from tui.config import Job
from tui.core import exitcodes
from tui.core.plan import Plan, group_by_top
from tui.core.remotes import display_remote
from tui.core.seek import Matches, contains_words
from tui.core.stats import Stats
from tui.core.text import printable
from tui.core.units import format_bytes
from tui.ops import processes
from tui.ops.b2audit import with_delete_meaning
from tui.ops.planner import PlanOutcome, compute_plan
from tui.ops.processes import Launched

# A folder with more files than this shows the first ones and a count: a tree of 100k
# nodes is slow to build and no one scrolls it. `space-mirror plan` prints everything.
MAX_FILES_PER_FOLDER = 500


def _n_files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def plan_totals_text(plan: Plan) -> str:
    known = "" if plan.delete_bytes_known else "+"
    return (f"Copy {_n_files(len(plan.copies))} ({format_bytes(plan.copy_bytes)})  ·  "
            f"Delete {_n_files(len(plan.deletes))} ({format_bytes(plan.delete_bytes)}{known})  ·  "
            f"Rename {_n_files(len(plan.renames))}")


def guard_text(plan: Plan) -> str:
    if plan.delete_guard is None:
        return "Delete guard: not computed"
    head = f"Delete guard: {plan.delete_guard} ({plan.delete_guard_why})"
    if plan.exceeds_guard:
        return (f"{head} — EXCEEDED by {len(plan.deletes) - plan.delete_guard}: "
                "running asks you to type the job's name")
    return f"{head} — ok"


def fill_tree(tree: Tree[str], paths: list[str], label: Callable[[str], str]) -> None:
    """Top-level folders as branches, files as leaves; labels are plain text, never markup."""
    tree.root.expand()
    if not paths:
        tree.root.add_leaf(Text("(none)"))
        return
    for folder, items in group_by_top(paths).items():
        name = f"{folder}/" if folder else "(top level)"
        branch = tree.root.add(Text(f"{printable(name)}  {len(items)}"),
                               expand=len(items) <= 20)
        for p in items[:MAX_FILES_PER_FOLDER]:
            branch.add_leaf(Text(printable(label(p))), data=p)  # data: a file, for `/`
        if len(items) > MAX_FILES_PER_FOLDER:
            branch.add_leaf(Text(f"… and {len(items) - MAX_FILES_PER_FOLDER} more "
                                 "(`space-mirror plan` lists them all)"))


class ConfirmByNameScreen(ModalScreen[bool]):
    """Type the job's name to allow a delete count above the guard. Dismisses True/False."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, job_name: str, deletes: int, guard: int, why: str) -> None:
        super().__init__()
        self.job_name = job_name
        self.deletes = deletes
        self.guard = guard
        self.why = why

    def compose(self) -> ComposeResult:
        box = Vertical(id="confirm-box")
        box.border_title = "Allow these deletes?"
        with box:
            yield Static(Content(
                f"The plan deletes {self.deletes} files at the destination, more than the "
                f"delete guard allows ({self.guard}: {self.why}).\n\n"
                f"The real sync will be allowed exactly {self.deletes} deletes and stops "
                f"there if the source lost more since the plan.\n\n"
                f"Type the job's name ({self.job_name}) and press Enter:"), id="confirm-text")
            yield Input(placeholder=self.job_name, id="confirm-input")
            yield Static(Content("Esc  cancel"), id="confirm-keys")

    @on(Input.Submitted, "#confirm-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.job_name:
            self.dismiss(True)
            return
        self.query_one("#confirm-keys", Static).update(Content(
            f"That is not {self.job_name!r}: nothing started.  Esc  cancel"))
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)


KEYS: tuple[Key, ...] = (
    Key("r", "run_for_real", "Run for real",
        "run the real sync, capped at the plan's deletes (asks for the job's name when the "
        "deletes exceed the delete guard)"),
    replace(K.SEARCH[0], help="search the Copy, Delete and Rename lists; Enter: first match",
            title="Search the plan's files"),
    *K.SEARCH[1:],
    K.BACK,
    K.HELP,
    K.ESCAPE,
    K.QUIT,
    *K.NAVIGATION,
)
TABS = ("copy", "delete", "rename")
PLAN_HELP_EXTRA = (("← →", "the Copy, Delete and Rename tabs"),
                   ("Ctrl-p", "command palette: every action of this screen"))


class PlanScreen(KeyedScreen):
    """Dismisses with the Launched runner ("run for real"), or None."""

    class Computed(Message):
        """The worker finished: a plan, or the reasons there is none."""

        def __init__(self, outcome: PlanOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Progressed(Message):
        """A stats line from the dry run in progress."""

        def __init__(self, stats: Stats) -> None:
            super().__init__()
            self.stats = stats

    CSS_PATH = css_path("plan.tcss")
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)
    HELP_EXTRA = PLAN_HELP_EXTRA

    plan: reactive[Plan | None] = reactive(None, recompose=True)
    problems: reactive[tuple[str, ...]] = reactive((), recompose=True)

    def __init__(self, job: Job, job_args: list[str], plan: Plan | None = None, *,
                 launcher: Callable[[list[str]], Launched] = processes.start_detached,
                 force: bool = False) -> None:
        super().__init__()
        self.job = job
        self.job_args = job_args
        self.force = force
        self._launcher = launcher
        self._cancel = threading.Event()
        self.matches = Matches("", ())
        self._match: int | None = None  # the current match, an index into _leaves()
        self.set_reactive(PlanScreen.plan, plan)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Content(f"Plan — job {self.job.name}: {self.job.source} → "
                             f"{display_remote(self.job.destination)}"), id="plan-title")
        plan = self.plan
        if plan is None:
            text = ("\n".join(self.problems) if self.problems
                    else "Computing the plan: pre-flight, source guards, then a dry run …")
            yield Static(Content(text), id="plan-status",
                         classes="problem" if self.problems else "")
            yield Footer()
            return
        yield Static(Content(plan_totals_text(plan)), id="plan-summary")
        yield Static(Content(guard_text(plan)), id="plan-guard",
                     classes="exceeded" if plan.exceeds_guard else "")
        if plan.delete_meaning:
            yield Static(Content(f"Deletes: {plan.delete_meaning}"), id="plan-delete-meaning")
        if plan.warnings:
            yield Static(Content("\n".join(f"! {w}" for w in plan.warnings)), id="plan-warnings")
        renamed = {r.source: f"{r.source} → {r.target}" for r in plan.renames}
        with TabbedContent(id="plan-tabs"):
            for title, tab_id, paths, label in (
                ("Copy", "copy", [f.path for f in plan.copies], str),
                ("Delete", "delete", [f.path for f in plan.deletes], str),
                ("Rename", "rename", [r.source for r in plan.renames], renamed.__getitem__),
            ):
                with TabPane(f"{title} ({len(paths)})", id=f"tab-{tab_id}"):
                    tree: Tree[str] = Tree(Text(f"{title}: {_n_files(len(paths))}"),
                                           id=f"tree-{tab_id}")
                    fill_tree(tree, paths, label)
                    yield tree
        find = Static(Content(""), id="plan-find")
        find.display = False
        yield find
        yield search_box("search the plan's files")
        yield Footer()

    async def recompose(self) -> None:
        """A recomposed Footer is empty until the bindings are published again: without
        this, `r Run for real` vanished from the footer as soon as the plan arrived."""
        await super().recompose()
        self.refresh_bindings()

    # -- computing the plan ---------------------------------------------------------------
    def on_mount(self) -> None:
        if self.plan is None:
            self._compute()

    def on_unmount(self) -> None:
        self._cancel.set()  # stops a dry run still in progress

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def _compute(self) -> None:
        try:
            outcome = compute_plan(self.job, force=self.force, cancel=self._cancel,
                                   progress=self._progress_from_thread, started_by="dashboard")
            if outcome.plan is not None:
                outcome = replace(outcome, plan=with_delete_meaning(self.job, outcome.plan))
        except Exception as exc:  # shown on the screen, never a traceback
            outcome = PlanOutcome(exitcodes.SOFTWARE,
                                  problems=[f"the plan could not be computed: {exc}"])
        if not self._cancel.is_set():
            self.post_message(self.Computed(outcome))

    def _progress_from_thread(self, stats: Stats) -> None:
        if not self._cancel.is_set():
            self.post_message(self.Progressed(stats))

    @on(Progressed)
    def _progress(self, message: Progressed) -> None:
        if self.plan is None and not self.problems:
            for status in self.query("#plan-status").results(Static):
                listed = (f", {message.stats.listed} listed" if message.stats.listed_known
                          else "")
                status.update(Content(f"Dry run: {message.stats.checks} checked{listed} …"))

    @on(Computed)
    def _show(self, message: Computed) -> None:
        outcome = message.outcome
        if outcome.plan is None:
            self.problems = (f"No plan (exit {outcome.code}):", *outcome.problems)
        else:
            self.plan = outcome.plan

    # -- search ---------------------------------------------------------------------------
    def _leaves(self) -> list[tuple[str, TreeNode[str]]]:
        """Every file shown, tab by tab, in the order of the trees."""
        out: list[tuple[str, TreeNode[str]]] = []
        for tab in TABS:
            for tree in self.query(f"#tree-{tab}").results(Tree):
                for branch in tree.root.children:
                    out.extend((tab, leaf) for leaf in branch.children if leaf.data)
        return out

    def action_search(self, _how: str = "") -> None:
        boxes = self.query(f"#{SEARCH_ID}").results(Input)
        box = next(boxes, None)
        if box is None:
            self.notify("No plan yet.", severity="warning", markup=False)
            return
        box.value = self.matches.term
        box.display = True
        box.focus()

    @on(Input.Submitted, f"#{SEARCH_ID}")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.display = False
        self.matches = Matches.find([str(leaf.label) for _, leaf in self._leaves()],
                                    event.value, contains_words)
        self._match = None
        if event.value.strip() and not self.matches.rows:
            self.notify(f"not found: {printable(event.value)}", severity="warning",
                        timeout=3, markup=False)
        self._goto(self.matches.step(-1))

    def action_next_match(self) -> None:
        self._goto(self.matches.step(-1 if self._match is None else self._match))

    def action_previous_match(self) -> None:
        start = len(self._leaves()) if self._match is None else self._match
        self._goto(self.matches.step(start, backwards=True))

    def _goto(self, index: int | None) -> None:
        """Show match `index`: its tab, its folder open, the cursor on it; and `3/12`."""
        find = self.query_one("#plan-find", Static)
        find.display = bool(self.matches.term)
        if index is not None:
            self._match = index
            tab, leaf = self._leaves()[index]
            self.query_one("#plan-tabs", TabbedContent).active = f"tab-{tab}"
            tree = self.query_one(f"#tree-{tab}", Tree)
            if leaf.parent is not None:
                leaf.parent.expand()
            tree.focus()
            self.call_after_refresh(tree.move_cursor, leaf)
        where = self.matches.position(self._match if self._match is not None else -1)
        find.update(Content(f"/{self.matches.term}: {where} · n next, N previous, Esc clears"))

    def clear_one(self) -> bool:
        """Esc: the search box, then the search."""
        box = next(self.query(f"#{SEARCH_ID}").results(Input), None)
        if box is not None and box.display:
            box.display = False
            return True
        if self.matches.term:
            self.matches = Matches("", ())
            self._match = None
            self.query_one("#plan-find", Static).display = False
            return True
        return False

    # -- actions --------------------------------------------------------------------------
    async def action_back(self, _how: str = "") -> None:
        self.dismiss(None)

    def action_run_for_real(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("No plan yet.", severity="warning", markup=False)
            return
        if not plan.complete:
            self.notify("The dry run did not complete; fix its errors and plan again.",
                        severity="error", markup=False)
            return
        if plan.exceeds_guard and plan.delete_guard is not None:
            self.app.push_screen(ConfirmByNameScreen(
                self.job.name, len(plan.deletes), plan.delete_guard, plan.delete_guard_why),
                self._confirmed)
            return
        self._start(plan)

    def _confirmed(self, ok: bool | None) -> None:
        if ok and self.plan is not None:
            self._start(self.plan)

    def _start(self, plan: Plan) -> None:
        extra = ["--allow-deletes", str(len(plan.deletes))]
        if self.force:
            extra.append("--force")
        try:
            launched = self._launcher(processes.runner_argv(self.job_args, False, extra=extra))
        except OSError as exc:
            self.notify(f"Could not start the runner: {exc.strerror or exc}",
                        severity="error", markup=False)
            return
        self.dismiss(launched)

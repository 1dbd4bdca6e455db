"""One page where a graduate follows every application ("我的申请"): job applications,
station stays, housing, subsidies and event registrations, each with its status, its date and
the next step the person must take.

Each programme app registers its section here (``register_section`` in its ``apps.ready()``),
as it registers its part of the data export in ``portal.privacy``: the core never imports the
apps. A provider reads the person's rows through the app's own selectors, with a fixed number
of queries however many rows there are, and describes each row in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from portal.models import User

# Closed items (decided, withdrawn, finished) stay on the page this long after they last
# changed; older ones are behind "show closed items".
RECENT_DAYS = 90

# Badge colours a provider may give a status (``tone-<name>`` in portal.css); the label is
# always written out, so the colour is never the only signal.
TONES = ("ok", "warn", "err", "muted", "info")


@dataclass
class Link:
    label: str
    url: str


@dataclass
class Action:
    """What the person must do next, said with its deadline ("answer the offer by …"), and
    the page where they do it."""

    text: str
    url: str


@dataclass
class Row:
    """One application, stay or registration as the person follows it.

    ``date`` is the date shown and the one rows are sorted by (newest first); ``changed`` is
    when the record last changed: a closed row older than ``RECENT_DAYS`` is hidden unless
    closed items are asked for."""

    key: str
    title: str
    url: str
    status: str
    status_label: str
    tone: str
    date: dt.date | dt.datetime
    date_label: str
    is_open: bool
    changed: dt.date | dt.datetime
    details: list[str] = field(default_factory=list)
    action: Action | None = None

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}")

    @property
    def waiting(self) -> bool:
        """The person has something to do."""
        return self.action is not None


@dataclass
class Section:
    """A programme's part of the page: its rows, where to see them all (``links``), where to
    start when there are none (``start``), and notes for the reader (``notes``, e.g. the
    claims of the person's organisations live elsewhere)."""

    key: str
    title: str
    rows: list[Row]
    start: Link
    links: list[Link] = field(default_factory=list)
    notes: list[Link] = field(default_factory=list)
    hidden: int = 0


Provider = Callable[[User], Section]

_SECTIONS: dict[str, tuple[int, Provider]] = {}


def register_section(key: str, order: int, provider: Provider) -> Provider:
    """Add the section ``key`` to the page at position ``order`` (lower first);
    ``provider(user) -> Section`` reads that person's rows."""
    _SECTIONS[key] = (order, provider)
    return provider


def registered_sections() -> list[tuple[str, Provider]]:
    return [(key, provider) for key, (_order, provider) in sorted(_SECTIONS.items(), key=lambda kv: (kv[1][0], kv[0]))]


@dataclass
class Dashboard:
    sections: list[Section]
    in_progress: int
    waiting: int
    hidden: int
    show_closed: bool

    @property
    def filled(self) -> list[Section]:
        return [s for s in self.sections if s.rows]

    @property
    def empty(self) -> list[Section]:
        return [s for s in self.sections if not s.rows]


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def dashboard_for(*, user: User, show_closed: bool = False, now: dt.datetime | None = None) -> Dashboard:
    """Every registered section for ``user``, rows newest first; closed rows that last changed
    more than ``RECENT_DAYS`` ago are left out (and counted) unless ``show_closed``."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=RECENT_DAYS)
    sections = []
    for _key, provider in registered_sections():
        section = provider(user)
        rows = sorted(section.rows, key=lambda r: _moment(r.date), reverse=True)
        if not show_closed:
            kept = [r for r in rows if r.is_open or _moment(r.changed) >= cutoff]
            section.hidden = len(rows) - len(kept)
            rows = kept
        section.rows = rows
        sections.append(section)
    rows = [r for s in sections for r in s.rows]
    return Dashboard(
        sections=sections,
        in_progress=sum(1 for r in rows if r.is_open),
        waiting=sum(1 for r in rows if r.waiting),
        hidden=sum(s.hidden for s in sections),
        show_closed=show_closed,
    )


def when(value: dt.date | dt.datetime) -> str:
    """A date, or a date and local time, as the app pages write them (2026-05-11 14:00)."""
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"

"""Approvals: the posts that wait for a person's approval, and approving or rejecting them.

/approvals lists the posts awaiting approval (soonest first) and the recently rejected ones, as
`campaign approvals` does (campaign.queue.approvals.pending). An approver approves one post, or
several at once with checkboxes, and rejects one with a reason on the post's own page
(/posts/{id}); the decisions go through the same library functions as `campaign approve` and
`campaign reject` (same rules), recorded with via="web".

After a decision the browser is sent back (303) to the page the form was on, with a few flags in
the query (done=…, id=…, counts) that web.notices turns into a translated message: the query's
own text is never shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaign.errors import CampaignError, NotFoundError
from campaign.queue import approvals as library
from campaign.queue.tables import scheduled_posts
from web.app import _t, action, page, refuse, render, see_other, signed_in, workspace
from web.calendar import known
from web.notices import back_to as _back, notice, with_flags

SHOWN = 500  # posts listed at most; filters narrow a longer list
TEXT_LENGTH = 600  # characters of a post's first part shown in the list
MAX_REASON = 2000  # characters of a rejection's reason
MAX_SELECTED = 500  # posts approved at once
MAX_ID_DIGITS = 10

posts = scheduled_posts.c


# --- deciding ---------------------------------------------------------------------------------------------

def _states(db, ids: list[int]) -> dict[int, tuple[str, int]]:
    """{id: (state, approvals_needed)} of those ids that are in the queue."""
    wanted = [i for i in ids if 1 <= i <= library.MAX_POST_ID]
    if not wanted:
        return {}
    with db.transaction() as connection:
        return {row.id: (row.state, row.approvals_needed) for row in connection.execute(
            select(posts.id, posts.state, posts.approvals_needed).where(posts.id.in_(wanted)))}


def _rejectable(state: str, needed: int) -> bool:
    return state in library.DECIDABLE or (state == "queued" and needed > 0)


def _refused(request: Request, error: CampaignError) -> Response:
    status = 404 if isinstance(error, NotFoundError) else 409
    return refuse(request, status, _t(request, "The queue did not accept this: %(reason)s") % {"reason": str(error)})


def _no_post(request: Request, post_id: int) -> Response:
    return refuse(request, 404, _t(request, "There is no post #%(id)d in the queue.") % {"id": post_id})


def _already_approved(db, post_id: int, name: str) -> bool:
    try:
        record = library.decisions(db, post_id)
    except CampaignError:
        return False
    with db.transaction() as connection:
        needed = connection.execute(select(posts.approvals_needed).where(posts.id == post_id)).scalar() or 0
    return name in library.tally(needed, [d for d in record if d.current]).approved_by


def _single_flags(result: library.Result, already: bool) -> dict:
    more = max(0, result.approvals_needed - len(result.approved_by))
    if not result.counted:
        return {"done": "changed", "id": result.post_id}
    if result.state == "queued":
        return {"done": "queued", "id": result.post_id}
    if result.state == "rejected":
        return {"done": "still_rejected", "id": result.post_id}
    return {"done": "already" if already else "waiting", "id": result.post_id, "more": more}


def _approve(request: Request, ids: list[int], back: str, *, single: bool) -> Response:
    ws = workspace(request)
    name = signed_in(request).person.name
    already = single and _already_approved(ws.db, ids[0], name)
    skipped = 0
    try:
        results = library.approve(ws.db, ids, by=name, via="web", now=ws.now())
    except CampaignError as error:
        states = _states(ws.db, ids)
        if single:
            if ids[0] not in states:
                return _no_post(request, ids[0])
            if states[ids[0]][0] not in library.DECIDABLE:
                return see_other(with_flags(back, done="not_awaiting", id=ids[0]))
            return _refused(request, error)
        still_open = [i for i in ids if states.get(i, ("", 0))[0] in library.DECIDABLE]
        if not still_open:
            return see_other(with_flags(back, done="bulk", skipped=len(ids)))
        if len(still_open) == len(ids):
            return _refused(request, error)  # not a matter of state: e.g. an image changed since the sync
        skipped = len(ids) - len(still_open)
        try:
            results = library.approve(ws.db, still_open, by=name, via="web", now=ws.now())
        except CampaignError as again:
            return _refused(request, again)
    if single:
        return see_other(with_flags(back, **_single_flags(results[0], already)))
    counts = {"queued": 0, "waiting": 0, "held": 0, "changed": 0}
    for result in results:
        if not result.counted:
            counts["changed"] += 1
        elif result.state == "queued":
            counts["queued"] += 1
        elif result.state == "rejected":
            counts["held"] += 1
        else:
            counts["waiting"] += 1
    return see_other(with_flags(back, done="bulk", skipped=skipped, **counts))


@action("approver")
def approve_one(request: Request, form) -> Response:
    post_id = request.path_params["post_id"]
    return _approve(request, [post_id], _back(form, f"/posts/{post_id}"), single=True)


@action("approver")
def approve_selected(request: Request, form) -> Response:
    back = _back(form, "/approvals")
    ids = []
    for value in form.getlist("ids"):
        value = str(value).strip()
        if not value.isdigit() or len(value) > MAX_ID_DIGITS:
            return refuse(request, 400, _t(request, "That is not the number of a post."))
        ids.append(int(value))
    ids = list(dict.fromkeys(ids))
    if not ids:
        return see_other(with_flags(back, done="none"))
    if len(ids) > MAX_SELECTED:
        return refuse(request, 400, _t(request, "Select at most %(count)d posts at once.") % {"count": MAX_SELECTED})
    return _approve(request, ids, back, single=False)


@action("approver")
def reject_one(request: Request, form) -> Response:
    ws = workspace(request)
    post_id = request.path_params["post_id"]
    back = _back(form, f"/posts/{post_id}")
    reason = " ".join(str(form.get("reason") or "").split())
    if not reason:
        return refuse(request, 400, _t(request, "Give a reason for the rejection: the people who wrote the post "
                                                "read it."))
    if len(reason) > MAX_REASON:
        return refuse(request, 400, _t(request, "The reason is too long: at most %(count)d characters.")
                      % {"count": MAX_REASON})
    try:
        result = library.reject(ws.db, post_id, by=signed_in(request).person.name, reason=reason, via="web",
                                now=ws.now())
    except CampaignError as error:
        found = _states(ws.db, [post_id]).get(post_id)
        if found is None:
            return _no_post(request, post_id)
        if not _rejectable(*found):
            return see_other(with_flags(back, done="not_awaiting", id=post_id))
        return _refused(request, error)
    return see_other(with_flags(back, done="rejected" if result.counted else "changed", id=post_id))


# --- the list ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    id: int
    state: str
    due_at: datetime
    zone: str
    account: str
    colour: str  # acct-0 … acct-7
    campaign_id: str | None
    campaign_name: str | None
    text: str  # the first part, shortened
    parts: int
    images: int
    needed: int
    approved_by: tuple[str, ...]
    still_needed: int
    rejections: tuple[library.Decision, ...]
    note: str | None  # last_error of a post awaiting approval (e.g. an image changed)


def shorten(text: str, limit: int = TEXT_LENGTH) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _row(item: library.PendingPost, info) -> Row:
    campaign = info.campaigns.get(item.campaign_id) if item.campaign_id else None
    return Row(item.id, item.state, item.due_at, item.timezone, item.account, f"acct-{info.colour(item.account)}",
               item.campaign_id, campaign.name if campaign else None, shorten(item.first_text), len(item.texts),
               len(item.media), item.approvals_needed, item.approved_by, item.still_needed, item.rejections,
               item.last_error if item.state == "awaiting_approval" else None)


@page("viewer")
def approvals_page(request: Request) -> Response:
    ws = workspace(request)
    info = known(ws.db)
    query = request.query_params
    campaign = query.get("campaign") or None
    account = query.get("account") or None
    if campaign is not None and campaign not in info.campaigns:
        return refuse(request, 400, _t(request, "There is no such campaign."))
    if account is not None and account not in info.accounts:
        return refuse(request, 400, _t(request, "There is no such account."))
    try:
        found = library.pending(ws.db, now=ws.now(), campaign=campaign, account=account, limit=SHOWN + 1)
    except NotFoundError:  # removed between the two reads
        return refuse(request, 400, _t(request, "There is no such campaign or account."))
    cut = len(found) > SHOWN
    rows = [_row(item, info) for item in found[:SHOWN]]
    filters = [(k, v) for k, v in (("campaign", campaign), ("account", account)) if v]
    here = "/approvals" + (f"?{urlencode(filters)}" if filters else "")
    return render(request, "approvals.html", waiting=[r for r in rows if r.state == "awaiting_approval"],
                  rejected=[r for r in rows if r.state == "rejected"], cut=cut, shown=SHOWN,
                  campaigns=list(info.campaigns.values()), accounts=info.accounts, campaign=campaign,
                  account=account, here=here, notice=notice(request))


routes = [
    Route("/approvals", approvals_page),
    Route("/approvals/approve", approve_selected, methods=["POST"]),
    Route("/posts/{post_id:int}/approve", approve_one, methods=["POST"]),
    Route("/posts/{post_id:int}/reject", reject_one, methods=["POST"]),
]

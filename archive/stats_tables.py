"""Archive statistics as flat tables (`archive stats --format csv --section …` and the workspace's
CSV of its charts): wide, one row per period, account, campaign, post or entity and one column per
number, so a spreadsheet charts the selected columns as they are."""
from __future__ import annotations

SECTIONS = ["periods", "accounts", "campaigns", "posts", "hashtags", "mentions", "links"]
TOTAL_COLUMNS = ["posts", "post", "reply", "repost", "quote", "likes", "reposts", "replies", "quotes", "engagement"]


def totals_cells(totals) -> list:
    return [totals.posts, *totals.kinds.values(), totals.likes, totals.reposts, totals.replies, totals.quotes,
            totals.engagement]


def account_label(account, accounts) -> str:
    """@handle, with the platform when two platforms share the handle."""
    shared = sum(1 for other in accounts if other.account.lower() == account.account.lower()) > 1
    return f"@{account.account}" + (f" ({account.platform})" if shared else "")


def csv_table(stats, section: str, zone) -> tuple[list[str], list[list]]:
    """(header, rows) of one section, wide: one row per period (account, campaign, …), one column
    per number, so that a spreadsheet charts the selected columns directly."""
    from archive.stats import top_post_dict

    if section == "periods":
        several = len(stats.accounts) > 1
        header = ["period", "first_day", "last_day", *TOTAL_COLUMNS]
        if several:
            header += [f"posts {account_label(a, stats.accounts)}" for a in stats.accounts]
        rows = []
        for number, (period, totals) in enumerate(zip(stats.periods, stats.per_period)):
            row = [period.key, period.first_day.isoformat(), period.last_day.isoformat(), *totals_cells(totals)]
            if several:
                row += [a.per_period[number].posts for a in stats.accounts]
            rows.append(row)
        return header, rows
    if section == "accounts":
        return (["account", "platform", *TOTAL_COLUMNS],
                [[a.account, a.platform, *totals_cells(a.totals)] for a in stats.accounts])
    if section == "campaigns":
        return (["campaign", *TOTAL_COLUMNS],
                [[campaign or "", *totals_cells(totals)] for campaign, totals in stats.campaigns])
    if section == "posts":
        header = ["rank", "engagement", "likes", "reposts", "replies", "quotes", "account", "platform", "created_at",
                  "created_local", "kind", "url", "id", "campaign", "text"]
        rows = []
        for rank, post in enumerate(stats.top_posts, 1):
            data = top_post_dict(post, zone)
            rows.append([rank, data["engagement"], data["likes"], data["reposts"], data["replies"], data["quotes"],
                         data["account"], data["platform"], data["created_at"], data["created_local"], data["kind"],
                         data["url"] or "", data["remote_id"], data["campaign"] or "", data["text"]])
        return header, rows
    key = {"hashtags": "hashtag", "mentions": "mention", "links": "link"}[section]
    return [key, "posts"], [[k, v] for k, v in getattr(stats, section)]

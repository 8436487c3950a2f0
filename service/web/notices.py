"""The election page's list of notices: what each notice needs, what is published, and links
to preview and download it through the API."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.orm import Session

from service.api.notices import DATA_NAMES
from workflow.commands import notices as commands
from workflow.commands.voter_districts import list_districts
from workflow.store.models import Election


def dashboard_notices(session: Session, election: Election) -> list[dict]:
    """Each notice of the election's kind, per district where the notice is per district: its
    state, a link to preview it (HTML) and one to download (the latest published version, or a
    PDF preview while unpublished)."""
    catalog = commands.notice_catalog(session, election.id)
    base = f"/api/v1/elections/{election.id}/notices"
    codes: list[str] | None = None
    items = []
    for t in catalog["templates"]:
        targets: list[str | None] = [None]
        if t["scope"] == "district":
            if codes is None:
                codes = [d["code"] for d in list_districts(session, election.id)]
            targets = list(codes)
            if not targets:
                items.append(
                    {
                        "title": t["name"],
                        "status": "尚无选区",
                        "preview_url": None,
                        "download_url": None,
                        "page_url": None,
                    }
                )
                continue
        for code in targets:
            versions = [p for p in t["published"] if p["district"] == code]
            query = f"?district={quote(code)}" if code else ""
            title = f"{t['name']}（选区 {code}）" if code else t["name"]
            if not t["ready"]:
                status = "缺少数据：" + "、".join(DATA_NAMES.get(m, m) for m in t["missing_data"])
                items.append(
                    {"title": title, "status": status, "preview_url": None, "download_url": None, "page_url": None}
                )
                continue
            preview = f"{base}/{t['template']}/preview{query}"  # the 样稿 (draft), marked as such
            if versions:
                latest = versions[-1]
                status = f"已发布第 {latest['version']} 版" + (
                    f" {latest['number']}" if latest["number"] else ""
                )
                download = f"{base}/published/{latest['id']}"
            else:
                # Not published: the 样稿与发布 page shows the draft, or says in Chinese what data
                # it still needs (the data are checked only by rendering): no link that may fail.
                status = "未发布"
                preview = download = None
            page = f"/elections/{election.id}/notices/{t['template']}{query}"
            items.append(
                {"title": title, "status": status, "preview_url": preview, "download_url": download, "page_url": page}
            )
    return items

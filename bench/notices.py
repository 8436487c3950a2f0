"""Benchmark: the voter-list notices of a 1 M-voter county (≈ 300 districts) to HTML, and one
district to PDF.

Baseline, measured in the same run: a bare Jinja2 loop writing the same rows (序号, 姓名, 性别,
出生日期, 选民小组) as table rows, with autoescape, no layout and no filters. The notice's cost
over it is what the GB/T 9704 layout, the age filter and the privacy pass (sanitize) add.

    .venv/bin/python bench/notices.py                 # 1,000,000 voters, 300 districts, 1 PDF
    .venv/bin/python bench/notices.py --scale 0.05    # a quick run
    .venv/bin/python bench/notices.py --no-pdf        # HTML only
    .venv/bin/python bench/notices.py --fast-only     # PDF by the long-list engine only

The one-district PDF and the 300 选民证 are each made twice in the same run: by the long-list engine (notices/longlist.py)
and by WeasyPrint's table layout (the engine before issue 15), and the CPU ratio is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinja2 import Environment

from demo import samples
from notices.context import sanitize
from notices.output import to_pdf
from notices.render import render_html

BARE = Environment(autoescape=True).from_string(
    "<table>{% for v in voters %}<tr><td>{{ loop.index }}</td><td>{{ v.name }}</td><td>{{ v.sex }}</td>"
    "<td>{{ v.birth_date }}</td><td>{{ v.group }}</td></tr>{% endfor %}</table>"
)


def context(voters: list[dict], code: str) -> dict:
    return {
        "template": "voter_list",
        "template_name": "选民名单公告",
        "doc": {
            "heading": "京山县选举委员会公告",
            "number": "京选公〔2026〕3号",
            "issuer": "京山县选举委员会",
            "issued_on": "2026-10-21",
            "date_style": "arabic",
            "public": True,
        },
        "election": {
            "anchor_date": "2026-11-15",
            "title": "京山县2026年县级人民代表大会代表换届选举",
            "milestones": {},
        },
        "district": {"code": code, "name": code},
        "data": {"voters": voters},
        "options": {},
    }


class Clock:
    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1 M-voter county")
    parser.add_argument("--districts", type=int, default=300)
    parser.add_argument("--pdf-out", type=Path, default=None, help="keep the one-district PDF here")
    parser.add_argument("--certificates", type=int, default=300, help="voters in the 选民证 PDF (0: none)")
    parser.add_argument("--no-pdf", action="store_true", help="HTML only: skip the one-district PDF")
    parser.add_argument(
        "--fast-only", action="store_true", help="PDF by the long-list engine only (no WeasyPrint run)"
    )
    args = parser.parse_args()
    voters_total = int(1_000_000 * args.scale)
    districts = max(1, int(args.districts * args.scale)) if args.scale < 1 else args.districts
    per = voters_total // districts
    print(
        f"county: {voters_total:,} voters in {districts} districts ({per:,} a district); cpus={os.cpu_count()}"
    )

    notice, bare, privacy = Clock(), Clock(), Clock()
    size = bare_size = 0
    sample_rows = None
    for i in range(districts):
        raw = samples.voters(per, seed=i)
        with privacy:
            rows = sanitize(raw)  # drop addresses, mask ID numbers, ISO dates
        with bare:
            bare_size += len(BARE.render(voters=rows))
        with notice:
            size += len(render_html("voter_list", context(rows, f"420821-{i + 1:03d}")))
        if sample_rows is None:
            sample_rows = rows
    print(f"HTML, all districts: {notice.wall:.2f} s wall ({notice.cpu:.2f} s cpu), {size / 1e6:.1f} MB")
    print(
        f"  per district:  notice {notice.wall / districts * 1000:.1f} ms, "
        f"bare Jinja2 loop {bare.wall / districts * 1000:.1f} ms, "
        f"privacy pass {privacy.wall / districts * 1000:.1f} ms"
    )
    print(
        f"  ratio notice / bare loop: {notice.cpu / bare.cpu:.2f}x cpu ({notice.wall / bare.wall:.2f}x wall); "
        f"with privacy pass: {(notice.cpu + privacy.cpu) / bare.cpu:.2f}x cpu"
    )
    print(
        f"  per voter row: {notice.cpu / voters_total * 1e6:.2f} µs cpu (bare {bare.cpu / voters_total * 1e6:.2f} µs)"
    )

    if args.no_pdf:
        return
    one = context(sample_rows, "420821-001")
    html = render_html("voter_list", one)
    to_pdf(
        render_html("voter_list", context(sample_rows[:2], "x")), "voter_list", context(sample_rows[:2], "x")
    )
    fast_clock = Clock()  # the long-list engine (notices/longlist.py), warm like a running service
    with fast_clock:
        fast = to_pdf(html, "voter_list", one)
    if args.fast_only:
        pdf, pdf_clock = fast, fast_clock
    else:
        pdf_clock = Clock()  # WeasyPrint's table layout, the engine before issue 15
        with pdf_clock:
            pdf = to_pdf(html)
    try:
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(pdf)).pages)
    except ImportError:  # pypdf is a test dependency
        pages = "?"
    if args.pdf_out:
        args.pdf_out.write_bytes(pdf)
    html_one = notice.cpu / districts
    print(
        f"PDF, one district ({per:,} voters): {pdf_clock.wall:.1f} s wall ({pdf_clock.cpu:.1f} s cpu), "
        f"{len(pdf) / 1e6:.2f} MB, {pages} pages; {pdf_clock.cpu / per * 1000:.1f} ms cpu a row; "
        f"ratio PDF / HTML for the district: {pdf_clock.cpu / html_one:.0f}x cpu"
    )
    print(
        f"PDF, long-list engine: {fast_clock.wall:.2f} s wall ({fast_clock.cpu:.2f} s cpu), {len(fast) / 1e6:.2f} MB; "
        f"{pdf_clock.cpu / fast_clock.cpu:.1f}x less cpu than WeasyPrint's table in this run"
    )
    if args.certificates:
        certificates(sample_rows[: args.certificates], args.fast_only)


def certificates(voters: list[dict], fast_only: bool) -> None:
    """选民证 for `voters` (two cards a page): the long-list engine, then WeasyPrint."""
    one = context(voters, "420821-001")
    one.update(template="voter_certificate", template_name="选民证")
    html = render_html("voter_certificate", one)
    fast_clock, slow_clock = Clock(), Clock()
    with fast_clock:
        fast = to_pdf(html, "voter_certificate", one)
    line = (
        f"PDF, {len(voters)} certificates: long-list engine {fast_clock.wall:.2f} s wall "
        f"({fast_clock.cpu:.2f} s cpu), {len(fast) / 1e6:.2f} MB"
    )
    if not fast_only:
        with slow_clock:
            slow = to_pdf(html)
        line += (
            f"; WeasyPrint {slow_clock.wall:.1f} s wall ({slow_clock.cpu:.1f} s cpu), {len(slow) / 1e6:.2f} MB; "
            f"{slow_clock.cpu / fast_clock.cpu:.1f}x less cpu"
        )
    print(line)


if __name__ == "__main__":
    main()

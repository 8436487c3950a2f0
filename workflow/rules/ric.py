"""Resident identity numbers (公民身份号码, GB 11643-1999) and voter eligibility, pure.

python-stdnum's `cn.ric.validate` checks length, check digit, birth date *and* that the area
code was in use in the birth year. That last check rejects real numbers (stdnum issue #442:
numbers are assigned at registration, not at birth, and areas are renamed), and a full
`validate` costs ~30 µs. So the hard checks (length, digits, check digit, birth date) are done
here with stdnum's own arithmetic, and the area lookup is a separate, cached *warning*.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from workflow.kinds import get_kind

# The voting age is the kinds' data ([law] voting_age; EL 4, VCL 13 ¶1).
ADULT_AGE = get_kind("people_congress").law["voting_age"]
OLDEST_BIRTH_YEAR = 1880


@dataclass(frozen=True)
class IdProblem:
    code: str  # E_ID_LENGTH, E_ID_LEGACY_15, E_ID_FORMAT, E_ID_CHECKSUM, E_ID_BIRTH_DATE
    message: str


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    birth_date: date
    sex: str  # "M" / "F": the 17th digit, odd for men (GB 11643 §4.3)


def normalize(raw: object) -> str:
    """Strip blanks (also full-width ones) and upper-case a trailing x."""
    text = str(raw).strip() if raw is not None else ""
    if " " in text or "\u3000" in text or "-" in text:
        text = text.replace(" ", "").replace("\u3000", "").replace("-", "")
    return text.upper()


def check_digit(first17: str) -> str:
    """GB 11643 ISO 7064 MOD 11-2 check character (stdnum's arithmetic: int(…, 13) trick)."""
    checksum = (1 - 2 * int(first17, 13)) % 11
    return "X" if checksum == 10 else str(checksum)


def parse(number: str) -> IdInfo | IdProblem:
    """Hard checks of a normalised number: what makes it not a valid identity number."""
    length = len(number)
    if length != 18:
        if length == 15 and number.isdigit():
            return IdProblem(
                "E_ID_LEGACY_15",
                "15 位旧身份证号码不能登记，请换用 18 位公民身份号码（GB 11643-1999）",
            )
        return IdProblem("E_ID_LENGTH", f"公民身份号码应为 18 位，此处为 {length} 位")
    if "*" in number:
        return IdProblem("E_ID_MASKED", "公民身份号码已被遮蔽（含 *），请使用登记员导出的完整号码")
    first17 = number[:17]
    last = number[17]
    if not first17.isdigit() or not (last.isdigit() or last == "X") or not first17.isascii():
        return IdProblem("E_ID_FORMAT", "公民身份号码只能由数字和末位 X 组成")
    if check_digit(first17) != last:
        return IdProblem("E_ID_CHECKSUM", "公民身份号码校验码错误（末位不符）")
    year = int(number[6:10])
    try:
        born = date(year, int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdProblem("E_ID_BIRTH_DATE", f"公民身份号码中的出生日期 {number[6:14]} 不存在")
    if year < OLDEST_BIRTH_YEAR:
        return IdProblem("E_ID_BIRTH_DATE", f"公民身份号码中的出生日期 {number[6:14]} 不合理")
    return IdInfo(number, born, "M" if int(number[16]) % 2 else "F")


def make_number(area: str, born: date, sequence: int, sex: str) -> str:
    """A valid number for synthetic data: area + birth date + 2-digit sequence + sex digit."""
    sex_digit = (sequence % 5) * 2 + (1 if sex == "M" else 0)
    first17 = f"{area}{born:%Y%m%d}{(sequence // 5) % 100:02d}{sex_digit}"
    return first17 + check_digit(first17)


def adult_cutoff(election_day: date) -> date:
    """The latest birth date of a voter: election day minus 18 years (EL 4).

    Feb 29 (our rule, tested): when election day is Feb 29 and the year 18 years before is not a
    leap year, the cutoff is Feb 28. Equivalently, someone born on Feb 29 reaches 18 on Mar 1 of
    a non-leap year (one day after Feb 28), which is how the birthday is counted in practice."""
    year = election_day.year - ADULT_AGE
    try:
        return election_day.replace(year=year)
    except ValueError:  # Feb 29 → Feb 28
        return date(year, 2, 28)


def is_adult(born: date, election_day: date) -> bool:
    return born <= adult_cutoff(election_day)


def age_on(born: date, day: date) -> int:
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def mask(number: str) -> str:
    """The area code (first 6) and the check character kept: 420821***********X.

    The birth date (characters 7–14) and the sequence code (15–17) stay hidden, so even with a
    row's exact birth date and sex the number is one of about 45 candidates, never one
    (PIPL arts. 28 and 51: sensitive personal information, de-identified where it is shown;
    docs/security.md). Rows shown with this mask also coarsen the birth date (`birth_month`)."""
    number = number or ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 7) + number[-1:]


def birth_month(born: date) -> str:
    """A birth date coarsened to year and month (2001-05) for rows shown with a masked number."""
    return f"{born.year:04d}-{born.month:02d}"


def id_hash(number: str) -> str:
    """A compact, fixed-length key for matching and the unique index (not a secret)."""
    return hashlib.blake2b(number.encode("ascii", "replace"), digest_size=12).hexdigest()


@lru_cache(maxsize=65536)
def area_warning(area: str, birth_year: int) -> str | None:
    """A warning about the area code, or None. Never a rejection (stdnum issue #442).

    Unknown to the code table → warning. Known, but every entry for it was retired before the
    holder's birth year → warning (a number cannot have been issued there after retirement).
    A code that came into use *after* the birth year is normal (numbers are issued at
    registration; areas are renamed) and gives no warning."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(area) for k, v in props.items()}
    county = info.get("county")
    if not county:
        return f"地区码 {area} 不在行政区划代码表中（可能已撤销或有误），请核对"
    latest_end: int | None = None
    names = []
    for entry in county.split(","):
        if not entry.startswith("["):
            return None  # in use without an end date
        span, name = entry[1:].split("]", 1)
        names.append(name)
        end = span.split("-", 1)[1]
        if not end:
            return None
        latest_end = max(latest_end or 0, int(end))
    if latest_end is not None and birth_year > latest_end:
        return (
            f"地区码 {area}（{'、'.join(names)}）已于 {latest_end} 年撤销，晚于撤销年出生者不应使用，请核对"
        )
    return None

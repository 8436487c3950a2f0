"""The password policy (docs/security.md): long enough, not a common password, not the user name
(nor it with digits added).

Length plus a deny-list, as NIST SP 800-63B §5.1.1.2 recommends, rather than composition rules
(which the generated passwords of `huanjie users add` need not meet); the Cybersecurity Law
art. 21 and GB/T 22239-2019 (等保 2.0) 8.1.4.1 ask for identification with passwords of some
complexity: the deny-list and the length carry that.
"""

from __future__ import annotations

from workflow.errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DISTINCT = 4  # "aaaaaaaaaa", "1212121212" are refused

# The most common passwords of leaked lists (global and Chinese sites), lower-case; a password
# is refused when it is one of these, or one of these with digits or symbols added at either end.
COMMON = frozenset(
    [
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "password1",
        "password123",
        "admin",
        "admin123",
        "admin888",
        "administrator",
        "root",
        "toor",
        "guest",
        "test",
        "test123",
        "qwerty",
        "qwerty123",
        "qwertyuiop",
        "asdfgh",
        "asdfghjkl",
        "zxcvbn",
        "zxcvbnm",
        "1qaz2wsx",
        "1qaz2wsx3edc",
        "qazwsx",
        "qazwsxedc",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "q1w2e3r4",
        "abc123",
        "abc123456",
        "abcdef",
        "abcd1234",
        "aa123456",
        "a123456",
        "a123456789",
        "a1b2c3d4",
        "iloveyou",
        "woaini",
        "woaini1314",
        "woaini520",
        "5201314",
        "1314520",
        "520520",
        "letmein",
        "welcome",
        "welcome1",
        "monkey",
        "dragon",
        "master",
        "shadow",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "superman",
        "trustno1",
        "hello",
        "hello123",
        "huanjie",
        "huanjie123",
        "xuanju",
        "xuanju123",
        "changeme",
        "secret",
        "secret123",
        "default",
        "system",
        "manager",
        "user",
        "login",
        "qq123456",
        "taobao",
        "wangyiming",
        "zhang123",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "0123456789",
        "987654321",
        "9876543210",
        "111111",
        "11111111",
        "000000",
        "00000000",
        "888888",
        "88888888",
        "666666",
        "66666666",
        "123123",
        "123123123",
        "123321",
        "112233",
        "121212",
        "654321",
        "147258",
        "147258369",
        "159357",
        "159753",
        "258369",
        "321321",
        "520131",
        "7758521",
        "147852369",
        "11223344",
        "1234qwer",
        "qwer1234",
        "asd123",
        "asd123456",
        "zxc123",
        "zxc123456",
        "q123456",
        "w123456",
        "password!",
        "passw0rd!",
        "admin@123",
        "admin#123",
        "root123",
        "root@123",
        "test@123",
        "p@ssw0rd123",
        "p@ssw0rd1",
        "a12345678",
        "aa12345678",
        "abc12345678",
    ]
)


def _core(password: str) -> str:
    """The password with the digits and symbols people add at its ends taken off."""
    return password.lower().strip("0123456789!@#$%^&*()_-+=.?~")


def check_password(password: str, *, username: str = "") -> None:
    """Refuse a weak password with a Chinese message naming the rule (field `password`)."""
    if len(password) < MIN_LENGTH:
        raise DomainError("E_WEAK_PASSWORD", f"密码至少 {MIN_LENGTH} 个字符", "password")
    if len(password) > MAX_LENGTH:
        raise DomainError("E_WEAK_PASSWORD", f"密码不能超过 {MAX_LENGTH} 个字符", "password")
    lowered = password.lower()
    if lowered in COMMON or _core(password) in COMMON:
        raise DomainError("E_WEAK_PASSWORD", "密码过于常见（在常用密码清单中），请换一个", "password")
    if len(set(lowered)) < MIN_DISTINCT:
        raise DomainError("E_WEAK_PASSWORD", f"密码至少含 {MIN_DISTINCT} 个不同的字符", "password")
    name = (username or "").strip().lower()
    if name and _core(password) in (name, name[::-1]):
        raise DomainError("E_WEAK_PASSWORD", "密码不能是用户名（或用户名加数字）", "password")

"""The short forms a notice prints (pure): 政治面貌 and 文化程度 as official documents write them.

政治面貌: the short names of GB/T 4762-1984 (政治面貌代码), as the candidates' 基本情况 print
them: 中共党员, 中共预备党员, 共青团员, 民革会员, 民盟盟员, 民建会员, 民进会员, 农工党党员, 致公党党员,
九三学社社员, 台盟盟员, 无党派人士, 群众. A form that names the organisation (中国共产党, 民盟) is the
member's 面貌; an unknown value is printed as given (never guessed), an empty one as 群众.

文化程度: the short names of GB/T 4658-2006 (学历代码): 研究生, 大学, 大专, 中专, 高中, 初中, 小学;
an unknown value is printed as given, an empty one as empty (not known is not 无).
"""

from __future__ import annotations

POLITICAL = {
    "中共党员": ("中国共产党", "中共", "中国共产党党员", "中共党员", "党员", "cpc", "ccp"),
    "中共预备党员": ("中国共产党预备党员", "中共预备党员", "预备党员"),
    "共青团员": ("中国共产主义青年团", "共青团", "中国共产主义青年团团员", "共青团员", "团员"),
    "民革会员": ("中国国民党革命委员会", "民革", "民革会员", "民革党员", "中国国民党革命委员会会员"),
    "民盟盟员": ("中国民主同盟", "民盟", "民盟盟员", "中国民主同盟盟员"),
    "民建会员": ("中国民主建国会", "民建", "民建会员", "中国民主建国会会员"),
    "民进会员": ("中国民主促进会", "民进", "民进会员", "中国民主促进会会员"),
    "农工党党员": ("中国农工民主党", "农工党", "农工民主党", "农工党党员", "中国农工民主党党员"),
    "致公党党员": ("中国致公党", "致公党", "致公党党员", "中国致公党党员"),
    "九三学社社员": ("九三学社", "九三学社社员"),
    "台盟盟员": ("台湾民主自治同盟", "台盟", "台盟盟员", "台湾民主自治同盟盟员"),
    "无党派人士": ("无党派", "无党派人士", "无党派民主人士"),
    "群众": ("群众", "无", "none"),
}
_POLITICAL = {alias.lower(): short for short, aliases in POLITICAL.items() for alias in aliases}

EDUCATION = {
    "研究生": ("研究生", "博士", "博士研究生", "硕士", "硕士研究生", "研究生学历"),
    "大学": ("大学", "大学本科", "本科", "大本", "大学学历"),
    "大专": ("大专", "大学专科", "专科", "高职"),
    "中专": ("中专", "中等专科", "中等专业学校", "中技", "技工学校", "职高"),
    "高中": ("高中", "普通高中", "高级中学"),
    "初中": ("初中", "初级中学"),
    "小学": ("小学",),
}
_EDUCATION = {alias: short for short, aliases in EDUCATION.items() for alias in aliases}


def political_status(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        return "群众"
    return _POLITICAL.get(text.lower(), text)


def education(value: str | None) -> str:
    text = (value or "").strip()
    return _EDUCATION.get(text, text)

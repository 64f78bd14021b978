"""The people of a household: names (from Faker, in the household's locale) and daily absences.

Faker is only ever used through an instance reseeded for the household (``seeded_faker``), never through
its global seed. Creating a Faker is slow (~tens of ms), so one instance per locale is kept and reseeded
for each household; the output is still a function of (seed, index) alone, since ``seed_instance``
resets the instance's generator completely. (Not thread-safe: build households of one locale from one
thread at a time; processes are fine.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from faker import Faker

from testbed.population.hostnames import ascii_name

# Faker's zh_CN romanised given names (the commonest Chinese given names) and their characters, so that an
# owner's Chinese name and the pinyin on their phone agree. Faker has no pinyin converter.
_GIVEN_HANZI = {
    "Chao": "超", "Fang": "芳", "Gang": "刚", "Guiying": "桂英", "Jie": "杰", "Jing": "静", "Juan": "娟",
    "Jun": "军", "Lei": "磊", "Li": "丽", "Min": "敏", "Ming": "明", "Na": "娜", "Ping": "平", "Qiang": "强",
    "Tao": "涛", "Wei": "伟", "Xia": "霞", "Xiulan": "秀兰", "Xiuying": "秀英", "Yang": "洋", "Yong": "勇",
    "Yan": "艳",
}
# Pinyin of the 50 commonest surnames (about 70% of people); rarer surnames get no romanisation.
_SURNAME_PINYIN = {
    "王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao",
    "吴": "Wu", "周": "Zhou", "徐": "Xu", "孙": "Sun", "马": "Ma", "朱": "Zhu", "胡": "Hu", "郭": "Guo", "何": "He",
    "高": "Gao", "林": "Lin", "罗": "Luo", "郑": "Zheng", "梁": "Liang", "谢": "Xie", "宋": "Song", "唐": "Tang",
    "许": "Xu", "韩": "Han", "冯": "Feng", "邓": "Deng", "曹": "Cao", "彭": "Peng", "曾": "Zeng", "肖": "Xiao",
    "田": "Tian", "董": "Dong", "袁": "Yuan", "潘": "Pan", "于": "Yu", "蒋": "Jiang", "蔡": "Cai", "余": "Yu",
    "杜": "Du", "叶": "Ye", "程": "Cheng", "苏": "Su", "魏": "Wei", "吕": "Lv", "丁": "Ding", "任": "Ren",
    "沈": "Shen",
}
_FAMILY_NAME_FIRST = ("zh_", "ja_", "ko_")


@dataclass(frozen=True, slots=True)
class Person:
    """One member of a household."""

    name: str  # as written in the locale: "张伟", "John Smith"
    first_ascii: str | None  # for hostnames ("Wei", "John"); None if the name has no ASCII form
    surname_ascii: str | None  # for SSIDs ("Zhang", "Smith")
    away: tuple[tuple[float, float], ...]  # daily absences, hours since midnight


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def seeded_faker(locale: str, rng: random.Random) -> Faker:
    """The locale's Faker, reseeded from ``rng`` (one draw); its output then depends on ``rng`` only."""
    fake = _faker(locale)
    fake.seed_instance(rng.getrandbits(64))
    return fake


def _name(fake: Faker, locale: str) -> tuple[str, str | None, str | None]:
    if locale == "zh_CN":
        surname = fake.last_name()
        given_py = fake.first_romanized_name()
        given = _GIVEN_HANZI.get(given_py) or fake.first_name()
        return surname + given, given_py, _SURNAME_PINYIN.get(surname)
    first, last = fake.first_name(), fake.last_name()
    if locale.startswith(_FAMILY_NAME_FIRST):
        name = last + first
        # ja_JP, zh_TW: Faker has no transliteration, so the romanised form is a separate draw.
        if hasattr(fake, "first_romanized_name"):
            return name, fake.first_romanized_name(), fake.last_romanized_name()
        return name, None, None
    return f"{first} {last}", ascii_name(first) or None, ascii_name(last) or None


def _quarter(rng: random.Random, low: float, high: float) -> float:
    return low + 0.25 * rng.randint(0, round((high - low) * 4))


def _away(rng: random.Random, is_owner: bool) -> tuple[tuple[float, float], ...]:
    roll = rng.random()
    if roll < (0.75 if is_owner else 0.5):  # at work
        return ((_quarter(rng, 7.0, 9.5), _quarter(rng, 17.0, 19.5)),)
    if not is_owner and roll < 0.8:  # at school
        return ((_quarter(rng, 7.0, 8.0), _quarter(rng, 15.5, 17.5)),)
    return ()  # at home all day: retired, caring, working from home


def draw_people(fake: Faker, rng: random.Random, locale: str, count: int) -> list[Person]:
    """``count`` (at least one) household members; the first is the owner. Only the owner's full name is
    recorded, so the others draw just a given name (Faker's weighted surname draw is the slow part)."""
    name, first, surname = _name(fake, locale)
    people = [Person(name, first, surname, _away(rng, True))]
    for _ in range(max(1, count) - 1):
        given = _given_name(fake, locale)
        people.append(Person(given[0], given[1], surname, _away(rng, False)))
    return people


def _given_name(fake: Faker, locale: str) -> tuple[str, str | None]:
    if locale == "zh_CN":
        given_py = fake.first_romanized_name()
        return _GIVEN_HANZI.get(given_py, given_py), given_py
    if hasattr(fake, "first_romanized_name"):
        return fake.first_name(), fake.first_romanized_name()
    given = fake.first_name()
    return given, ascii_name(given) or None


def neighbour_name(fake: Faker, locale: str) -> tuple[str | None, str | None]:
    """(first, surname) in ASCII of someone next door, who named their Wi-Fi after themselves."""
    if hasattr(fake, "first_romanized_name"):  # zh_CN, ja_JP...: only the romanised form is used
        return fake.first_romanized_name(), fake.last_romanized_name()
    return _name(fake, locale)[1:]
